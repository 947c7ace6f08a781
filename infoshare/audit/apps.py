from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "infoshare.audit"
    label = "audit"
    verbose_name = "Audit trail"
