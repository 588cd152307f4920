"""The accounts app's scheduled jobs: refreshing users and groups from the directory."""

from __future__ import annotations

from typing import Any

from jobs.registry import RetryPolicy, job
from jobs.runner import TransientError

from .directory_sync import sync_directory


@job(
    name="accounts.sync-directory",
    schedule="40 * * * *",
    timeout=1800,
    retry=RetryPolicy(attempts=3, base_delay=30, max_delay=300),
)
def sync_directory_job(ctx: Any) -> None:
    """Refresh users' groups and attributes from the directory and deactivate leavers."""
    report = sync_directory()
    ctx.add(read=report.checked, written=report.updated + report.deactivated)
    ctx.message = report.summary().splitlines()[0]
    if not report.ok:
        # The directory was down or answered nobody: worth another try later in this run.
        raise TransientError(report.error)
