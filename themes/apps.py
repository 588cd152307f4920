"""App configuration for `themes`."""

from django.apps import AppConfig


class ThemesConfig(AppConfig):
    """Themes: brand colours, logos and packages on disk."""

    name = "themes"
    verbose_name = "Themes"
    default_auto_field = "django.db.models.BigAutoField"
