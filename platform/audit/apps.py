"""App configuration for `audit`."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed what, when and why; security events; moving configuration between environments."""

    name = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: the app registry must be ready before tenants' models load.
        from core.registry import PlatformMenuEntry, register_platform_page
        from tenants.permissions import reads_everything

        register_platform_page(
            PlatformMenuEntry(
                label="Change history",
                route_name="audit:changes",
                icon="clock-history",
                order=60,
                visible=reads_everything,
            )
        )
