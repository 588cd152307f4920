"""App configuration for `api`: the REST API's wiring, its usage audit and its platform menu entries."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API at /api/v1/: authentication, permissions, throttling, errors, schema and usage audit."""

    name = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI extension for token authentication
        from .usage import register_retention

        register_retention()
        self._register_menu_entries()

    @staticmethod
    def _register_menu_entries() -> None:
        from core.registry import PlatformMenuEntry, register_platform_page
        from tenants.permissions import reads_everything

        register_platform_page(PlatformMenuEntry("API tokens", "accounts:tokens", icon="key", order=70))
        register_platform_page(PlatformMenuEntry("API documentation", "api:docs", icon="book", order=71))
        register_platform_page(
            PlatformMenuEntry("API usage", "api:usage", icon="activity", order=72, visible=reads_everything)
        )
