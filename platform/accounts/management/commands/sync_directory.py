"""`manage.py sync_directory`: refresh directory users' groups and attributes, deactivate those who left."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.directory_sync import sync_directory


class Command(BaseCommand):
    help = (
        "Refresh every active directory user's groups and attributes from the configured directory (LDAP or the "
        "mock file) and deactivate users who left it. Local accounts are never touched. Prints what changed and "
        "records it as a directory_sync security event; exits with an error, changing nothing more, if the "
        "directory cannot be read."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_directory()
        self.stdout.write(report.summary())
        if not report.ok:
            # A non-zero exit status, so cron and the job runner see the failure (the summary is already printed).
            raise CommandError(f"Directory sync failed: {report.error}")
