"""`manage.py purge_expired [--dry-run] [--batch-size N] [--only NAME ...]`: delete rows older than their retention.

One line per table on standard output, e.g. "security events: 1,234 rows older than 2024-05-01 02:00:00 UTC
removed in 2 batches". The periods are live settings (Admin → Config → Retention); see audit.retention and
docs/runbooks/retention.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.retention import DEFAULT_BATCH_SIZE, UnknownPolicyError, count_of, purge_all, select_policies


class Command(BaseCommand):
    help = (
        "Delete security events, sign-in logs and configuration history (and any table another app registered) "
        "older than their retention period, in small batches. The newest version of every object's history is "
        "always kept. Records one retention_purge security event with the counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be removed, and remove nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows deleted per transaction (default {DEFAULT_BATCH_SIZE}; keeps Galera write-sets small).",
        )
        parser.add_argument(
            "--only",
            action="extend",
            nargs="+",
            metavar="NAME",
            help=(
                "Purge only these tables: a policy name (security-events, axes:access-log, "
                "history:tenants.page, …) or a group (history, axes). Repeatable."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size, only, dry_run = options["batch_size"], options["only"], options["dry_run"]
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1 (got {batch_size}).")
        try:
            # Checked before anything is deleted, so a typo in one name does not purge the others.
            select_policies(only)
        except UnknownPolicyError as exc:
            raise CommandError(str(exc)) from exc
        results = purge_all(batch_size=batch_size, dry_run=dry_run, only=only)
        for result in results:
            self.stdout.write(result.describe())
        total = sum(result.deleted for result in results)
        if dry_run:
            self.stdout.write(f"Dry run: {count_of(total, 'row')} would be removed; nothing was deleted.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Removed {count_of(total, 'row')} in all."))
