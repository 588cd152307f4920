"""`manage.py run_job NAME`: run one registered job now (what the job servers' crontab calls).

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
from jobs.runner import RoleError, run_job


class Command(BaseCommand):
    help = "Run one registered job now, under its cluster-wide lease (see list_jobs for the names)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The job's name, e.g. audit.purge-expired.")

    def handle(self, *args: Any, **options: Any) -> None:
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
