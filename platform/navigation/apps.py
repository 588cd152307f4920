"""App configuration for `navigation`."""

from django.apps import AppConfig


class NavigationConfig(AppConfig):
    """Menus built from rows, shown by group."""

    name = "navigation"
    verbose_name = "Navigation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - adds the starter menu when a section is onboarded
