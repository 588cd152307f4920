"""`manage.py onboard_section SLUG --name … --editors-group … [--viewers-group …]`: onboard a team in one step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.services import OnboardingError, onboard_section


class Command(BaseCommand):
    help = "Create a section with its editor and viewer roles, a starter home page and menu. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The section's address, /<slug>/ (lowercase letters, digits, hyphens).")
        parser.add_argument("--name", required=True, help="The section's display name.")
        parser.add_argument("--editors-group", required=True, help="Directory group whose members edit the section.")
        parser.add_argument("--viewers-group", help="Directory group whose members may visit it (default: everyone).")
        parser.add_argument("--description", default="", help="One or two sentences on what the section is for.")
        parser.add_argument("--actor", help="Username recorded as the one who onboarded it (default: none).")
        parser.add_argument("--reason", help="Reason recorded in the history.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"No user named {options['actor']!r}; sign them in once, or leave out --actor.")
        try:
            result = onboard_section(
                slug=options["slug"],
                name=options["name"],
                editors_group=options["editors_group"],
                viewers_group=options["viewers_group"],
                description=options["description"],
                actor=actor,
                reason=options["reason"] or "Onboarded with manage.py onboard_section",
            )
        except OnboardingError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(result.summary) if result.created else result.summary)
