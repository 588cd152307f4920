"""App configuration for `core`."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Atrium's shared building blocks."""

    name = "core"
    verbose_name = "Atrium core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Live settings (django-constance) get change history like every other configuration table.
        from . import history  # noqa: F401
