"""App configuration for `feedback`."""

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Bug reports with screenshots, sent from any page, routed to the section's support and triaged there."""

    name = "feedback"
    verbose_name = "Feedback and bug reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.registry import PlatformMenuEntry, register_platform_page
        from tenants.permissions import edits_any_section, reads_everything

        register_platform_page(PlatformMenuEntry("My problem reports", "feedback:mine", icon="bug", order=60))
        register_platform_page(
            PlatformMenuEntry(
                "Problem reports (triage)",
                "feedback:triage",
                icon="clipboard-check",
                order=61,
                visible=lambda user: reads_everything(user) or edits_any_section(user),
            )
        )
