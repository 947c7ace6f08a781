from django.apps import AppConfig


class AnonymiseConfig(AppConfig):
    name = "infoshare.anonymise"
