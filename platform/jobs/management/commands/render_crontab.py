"""`manage.py render_crontab`: the job servers' crontab, from the registry (install with `| crontab -`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from jobs.crontab import CrontabOptions, render


class Command(BaseCommand):
    help = "Write the crontab for the job servers: one line per registered job, running `manage.py run_job`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--directory", default=str(settings.BASE_DIR), help="Where manage.py is on the job servers."
        )
        parser.add_argument("--python", default=sys.executable, help="The virtualenv's python on the job servers.")
        parser.add_argument("--env-file", help="A file of VAR=value lines with the environment (DATABASE_URL, …).")
        parser.add_argument("--log-file", help="Append each run's output to this file.")
        parser.add_argument("--mail-to", default="", help="Where cron mails output (default: nowhere).")

    def handle(self, *args: Any, **options: Any) -> None:
        crontab = render(
            CrontabOptions(
                directory=Path(options["directory"]),
                python=Path(options["python"]),
                # Absolute, because the line runs after `cd DIRECTORY`, and sh's `.` looks a bare name up on PATH.
                env_file=Path(options["env_file"]).resolve() if options["env_file"] else None,
                log_file=Path(options["log_file"]).resolve() if options["log_file"] else None,
                mail_to=options["mail_to"],
            )
        )
        self.stdout.write(crontab, ending="")
