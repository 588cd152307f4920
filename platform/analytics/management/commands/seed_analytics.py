"""`manage.py seed_analytics --days 30 [--section SLUG] [--seed N] [--replace]`: demo traffic for the dashboards."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics import demo
from tenants.models import Section


class Command(BaseCommand):
    help = (
        "Create realistic page visits for the last --days days (office hours, quiet weekends, visits that follow "
        "each section's menu, times on page), deterministic for --seed, in bulk batches of 1,000 rows; then "
        "recompute those days' aggregates. One menu entry per section is left unvisited, so the dashboards' "
        "'menu items nobody used' list has an example."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="How many days, ending today (default: 30).")
        parser.add_argument("--section", default="", help="Only this section (its slug); default: every section.")
        parser.add_argument("--seed", type=int, default=demo.SEED, help="Random seed (default: the demo's).")
        parser.add_argument(
            "--replace", action="store_true", help="First delete those sections' page views in those days."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 400:
            raise CommandError("--days must be from 1 to 400.")
        sections = list(Section.objects.order_by("slug"))
        if options["section"]:
            sections = [s for s in sections if s.slug == options["section"]]
            if not sections:
                raise CommandError(f"There is no section “{options['section']}”.")
        if not sections:
            raise CommandError("There are no sections yet: load the demo first (manage.py load_demo).")
        started = time.monotonic()
        results = demo.seed(days, sections=sections, seed=options["seed"], replace=options["replace"])
        for result in results:
            self.stdout.write(result.describe())
        total = sum(result.views for result in results)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {total:,} page views over {days} days in {time.monotonic() - started:.1f} s "
                "and aggregated them."
            )
        )
