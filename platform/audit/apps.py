"""App configuration for `audit`."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who changed what, when and why; security events; moving configuration between environments."""

    name = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"
