from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "infoshare.safeguarding"
