"""App configuration for `tenants`."""

from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Sections (one per team portal) and everything that scopes data to them."""

    name = "tenants"
    verbose_name = "Sections"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the reserved-slug system check
