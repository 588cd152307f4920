"""`manage.py verify_backup [--path FILE_OR_DIR] [--json]`: verify a backup now (monitoring.backups), print what
was found, exit 1 when it is not good. Unlike the job `monitoring.verify-backup` it records no job run and sends no
alert: it is for an operator checking a backup by hand, e.g. the one about to be restored. Run it on a job server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.backups import BackupProblem, Verification, verify


class Command(BaseCommand):
    help = "Restore the newest backup (or --path) into the scratch database and compare its key tables with live."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--path", type=Path, help="A dump file (.sql or .sql.gz) or a directory of them (default: BACKUP_DIR)."
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = Verification()
        try:
            verify(options["path"], verification=result)
        except BackupProblem as problem:
            if options["json"]:
                self.stdout.write(json.dumps({"ok": False, "problem": str(problem), **result.detail}, indent=2))
            raise CommandError(str(problem)) from None
        if options["json"]:
            self.stdout.write(json.dumps({"ok": True, **result.detail}, indent=2))
            return
        self.stdout.write(self.style.SUCCESS(f"Backup verified: {result.summary()}"))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
