from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "infoshare.agreements"
    verbose_name = "Information sharing and data processing agreements"
    default_auto_field = "django.db.models.BigAutoField"
