"""App configuration for `monitoring`."""

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """/-/health/live, /-/health/ready and /metrics."""

    name = "monitoring"
    verbose_name = "Monitoring"
