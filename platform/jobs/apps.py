"""App configuration for `jobs`."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Registered jobs, their runs, cluster-wide leases, the crontab for the job servers, and the sync framework."""

    name = "jobs"
    verbose_name = "Jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every app declares its jobs in its own `jobs.py`; importing those modules registers them.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")

        from .retention import register_retention

        register_retention()

        from core.registry import PlatformMenuEntry, register_platform_page
        from tenants.permissions import edits_any_section, reads_everything

        register_platform_page(
            PlatformMenuEntry(
                label="Jobs",
                route_name="jobs:list",
                icon="clock",
                order=70,
                visible=lambda user: reads_everything(user) or edits_any_section(user),
            )
        )
