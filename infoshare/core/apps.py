from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "infoshare.core"
    label = "core"
    verbose_name = "Organisations and people"

    def ready(self) -> None:
        # Sign-in events come from allauth and Django's auth signals, not from
        # a service of ours, so they are audited by receivers (see DESIGN.md).
        from infoshare.core import signals  # noqa: F401
