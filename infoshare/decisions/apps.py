from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "infoshare.decisions"
    verbose_name = "Decision log"
