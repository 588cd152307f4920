"""App configuration for `reports`."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The data catalog (datasets registered in code, metadata in the admin) and the reports built on it."""

    name = "reports"
    verbose_name = "Data catalog and reports"
    default_auto_field = "django.db.models.BigAutoField"
