"""App configuration for `accounts`."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, directories and sign-in."""

    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import security  # noqa: F401 - connects the security-event receivers
