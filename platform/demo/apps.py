"""App configuration for `demo`."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data loading."""

    name = "demo"
    verbose_name = "Demo data"
