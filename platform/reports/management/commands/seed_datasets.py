"""`manage.py seed_datasets --invoices N --headcount M`: fill the demo datasets with deterministic data, fast."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports import demo


class Command(BaseCommand):
    help = (
        "Seed the demo datasets (finance invoices, hr headcount) from the seeded generator: rows 1..N exist "
        "afterwards, rows beyond N are removed. bulk_create in batches of 1,000, each its own transaction."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--invoices", type=int, default=None, help="How many invoices (default: leave as is).")
        parser.add_argument("--headcount", type=int, default=None, help="How many employees (default: leave as is).")
        parser.add_argument("--seed", type=int, default=demo.SEED, help="Random seed (default: the demo's).")

    def handle(self, *args: Any, **options: Any) -> None:
        for name, seed in (("invoices", demo.seed_invoices), ("headcount", demo.seed_headcount)):
            count = options[name]
            if count is None:
                continue
            if count < 0:
                self.stderr.write(f"--{name} must be 0 or more")
                continue
            started = time.monotonic()
            added = seed(count, options["seed"])
            seconds = time.monotonic() - started
            self.stdout.write(f"{name}: {count} rows ({added:+d}) in {seconds:.1f} s")
