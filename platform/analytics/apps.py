"""App configuration for `analytics`."""

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Page views and time on page, aggregated daily for the section and platform dashboards."""

    name = "analytics"
    verbose_name = "User journey analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from . import buffer

        # The buffer is written once a response has been sent, when it is due (see analytics.buffer).
        request_finished.connect(buffer.flush_if_due, dispatch_uid="analytics.flush_if_due")
        register_retention()
        register_pages()


def register_retention() -> None:
    """Raw views and beacon times, and the daily aggregates made from them, all age out on the same period: the
    dashboards then never show days whose views are gone."""
    from audit.retention import RetentionPolicy, register_policy

    from .models import DailyPageStat, DailySectionStat, DailyTransition, PageTime, PageView

    for name, date_field, model, label in (
        ("analytics:page-visits", "started", PageView, "page visits"),
        ("analytics:page-times", "received", PageTime, "page time beacons"),
        ("analytics:daily-pages", "day", DailyPageStat, "daily page statistics"),
        ("analytics:daily-transitions", "day", DailyTransition, "daily page-to-page paths"),
        ("analytics:daily-sections", "day", DailySectionStat, "daily section statistics"),
    ):
        register_policy(RetentionPolicy(name, "ANALYTICS_RETENTION_DAYS", date_field, model.objects.all, label=label))


def register_pages() -> None:
    from django.conf import settings

    from core.registry import PlatformMenuEntry, register_platform_page
    from tenants.permissions import edits_any_section, reads_everything

    register_platform_page(
        PlatformMenuEntry(
            "Analytics",
            "analytics:index",
            icon="graph-up",
            order=65,
            # Cached checks only (no query when the header is built); a section owner who edits nothing opens
            # /analytics/ directly, which lists their sections.
            visible=lambda user: reads_everything(user) or edits_any_section(user),
        )
    )
    register_platform_page(
        PlatformMenuEntry(
            "Usage analytics and privacy",
            "analytics:privacy",
            icon="shield-lock",
            order=66,
            visible=lambda user: bool(getattr(user, "is_authenticated", False) and settings.ANALYTICS_ENABLED),
        )
    )
