"""App configuration for `audit`: its platform menu entries and the alert rules' hook on security events."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed what, when and why; security events and alerts; moving configuration between environments."""

    name = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        self._register_menu_entries()
        self._connect_alert_rules()

    @staticmethod
    def _register_menu_entries() -> None:
        # Imported here, not at module level: the app registry must be ready before tenants' models load.
        from core.registry import PlatformMenuEntry, register_platform_page
        from tenants.permissions import reads_everything

        # The registry reverses each route when the menu is drawn and leaves out any that does not resolve
        # (yet), so registering a page whose URLs are still being built never breaks a page.
        for label, route_name, icon, order in (
            ("Change history", "audit:changes", "clock-history", 60),
            ("Security events", "audit:security-events", "shield-lock", 61),
            ("Security alerts", "audit:alerts", "exclamation-triangle", 62),
        ):
            register_platform_page(
                PlatformMenuEntry(label=label, route_name=route_name, icon=icon, order=order, visible=reads_everything)
            )

    @staticmethod
    def _connect_alert_rules() -> None:
        from django.db.models.signals import post_save

        from accounts.models import SecurityEvent

        from .alerts import on_security_event_saved

        post_save.connect(on_security_event_saved, sender=SecurityEvent, dispatch_uid="audit.alerts.evaluate")
