from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "infoshare.proposals"
    verbose_name = "Sharing proposals"
    default_auto_field = "django.db.models.BigAutoField"
