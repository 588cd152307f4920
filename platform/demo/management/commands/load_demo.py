"""`manage.py load_demo`: load the demo sections, roles, pages and menus (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.demo import seed_demo_traffic
from demo.services import DEMO_FILE, load_demo


class Command(BaseCommand):
    help = "Load the demo sections (finance, hr, engineering) with their roles, pages and menus. Safe to re-run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEMO_FILE, help="Demo YAML file (default: %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"Demo file {path} does not exist.")
        try:
            lines = load_demo(path)
        except (yaml.YAMLError, KeyError, TypeError) as exc:
            raise CommandError(f"Demo file {path} is not valid: {exc}") from exc
        for line in lines:
            self.stdout.write(line)
        self.stdout.write("\n".join(seed_demo_traffic()))  # a month of visits for the analytics dashboards, once
        self.stdout.write(self.style.SUCCESS("Demo loaded. Sign in with any demo user and the password atrium-demo."))
