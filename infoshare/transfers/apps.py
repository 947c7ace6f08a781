from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "infoshare.transfers"
