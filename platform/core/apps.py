"""App configuration for `core`."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Atrium's shared building blocks."""

    name = "core"
    verbose_name = "Atrium core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Live settings (django-constance) get change history like every other configuration table.
        from django.db.models.signals import post_migrate

        from . import history
        from .registry import PlatformMenuEntry, register_platform_page

        # The admin is for platform admins, auditors, and section editors (staff or not); the admin site decides.
        register_platform_page(
            PlatformMenuEntry(
                "Administration",
                "admin:index",
                icon="gear",
                order=90,
                visible=lambda user: bool(getattr(user, "is_authenticated", False)) and _enters_admin(user),
            )
        )
        register_platform_page(PlatformMenuEntry("Component showcase", "core:components", icon="palette", order=80))
        post_migrate.connect(history.store_live_setting_defaults, sender=self, dispatch_uid="atrium-live-defaults")


def _enters_admin(user: object) -> bool:
    from django.contrib import admin

    class _Request:
        pass

    request = _Request()
    request.user = user  # type: ignore[attr-defined]
    return bool(admin.site.has_permission(request))  # type: ignore[arg-type]
