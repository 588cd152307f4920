"""`manage.py run_job NAME`: run one registered job now (what the job servers' crontab calls).

`manage.py run_job --requested` runs the jobs requested through the API instead (what the job
`jobs.run-requested` does every minute), each under its normal lease.

Exit status: 0 when the run succeeded or another server already runs the job (not an error: cron simply fired
on two servers), 1 when the run failed or timed out, 2 for a usage error (unknown job, web instance).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.leases import Held
from jobs.models import Outcome
from jobs.registry import UnknownJob
from jobs.runner import RoleError, run_job, run_requested


class Command(BaseCommand):
    help = "Run one registered job now, under its cluster-wide lease (see list_jobs for the names)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="The job's name, e.g. audit.purge-expired.")
        parser.add_argument(
            "--requested", action="store_true", help="Run the jobs requested through the API (waiting requests)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requested"]:
            self.handle_requested()
            return
        if not options["name"]:
            raise CommandError("Name a job (see list_jobs), or give --requested.", returncode=2)
        try:
            result = run_job(options["name"])
        except (UnknownJob, RoleError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if isinstance(result, Held):
            self.stdout.write(result.message(options["name"]))
            return
        counts = f"read {result.rows_read}, written {result.rows_written}, rejected {result.rows_rejected}"
        line = f"{result.job}: {result.get_outcome_display()} in {result.duration_seconds:.1f} s ({counts})"
        if result.message:
            line += f": {result.message}"
        if result.outcome != Outcome.SUCCESS:
            self.stderr.write(line)
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(line))

    def handle_requested(self) -> None:
        try:
            handled = run_requested()
        except RoleError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not handled:
            self.stdout.write("No run requested.")
        for request, _run in handled:
            self.stdout.write(f"{request.job} (request {request.pk}): {request.message}")
