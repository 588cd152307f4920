"""`manage.py health [--database]`: the readiness report as JSON, exit status 0 when ready and 1 when not (for job
servers and scripts, which have no HTTP endpoint to poll); `--database` adds the database server's health detail
(connections, slow queries, replication, Galera)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.database import read_status
from monitoring.health import run_checks


class Command(BaseCommand):
    help = "Check the database (and Galera state) and the cache; print JSON; exit 1 when not ready."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            action="store_true",
            help="Also print the database server's detail: connection usage, slow queries, replication, Galera.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_checks()
        output = report.as_json()
        if options["database"]:
            output["database"] = read_status().as_json()
        self.stdout.write(json.dumps(output, indent=2, sort_keys=True))
        if not report.ready:
            raise CommandError(f"not ready: {', '.join(output['failed'])}")
