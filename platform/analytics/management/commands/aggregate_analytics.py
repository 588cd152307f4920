"""`manage.py aggregate_analytics --since DATE [--until DATE]`: recompute the daily aggregates of those days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from analytics import services


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"“{value}” is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Merge the beacons' times into their views, then recompute the daily analytics aggregates of every day from "
        "--since to --until (default: today), replacing what was there. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=False, help="First day (YYYY-MM-DD); default: yesterday.")
        parser.add_argument("--until", required=False, help="Last day (YYYY-MM-DD), included; default: today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        last = day(options["until"]) if options["until"] else today
        first = day(options["since"]) if options["since"] else today - timedelta(days=1)
        if first > last:
            raise CommandError(f"--since ({first}) is after --until ({last}).")
        merged = services.merge_page_times()
        self.stdout.write(f"time on page: {merged} views updated")
        for result in services.aggregate_range(first, last):
            self.stdout.write(result.describe())
        self.stdout.write(self.style.SUCCESS(f"Aggregated {(last - first).days + 1} days."))
