"""`manage.py health`: the readiness report as JSON, exit status 0 when ready and 1 when not (for job servers and
scripts, which have no HTTP endpoint to poll)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.health import run_checks


class Command(BaseCommand):
    help = "Check the database (and Galera state) and the cache; print JSON; exit 1 when not ready."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_checks()
        self.stdout.write(json.dumps(report.as_json(), indent=2, sort_keys=True))
        if not report.ready:
            raise CommandError(f"not ready: {', '.join(report.as_json()['failed'])}")
