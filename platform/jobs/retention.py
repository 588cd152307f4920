"""Retention for the job tables: run log, sync change log and rejected records age out like other history.

They follow HISTORY_RETENTION_DAYS because they are change history: what each sync created, changed or deleted.
The newest run of every job is kept whatever its age, so the status pages always know each job's last outcome.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from .models import JobRun
from .sync_models import RejectedRecord, SyncChange


def _newer_runs_of_same_job() -> Exists:
    return Exists(JobRun.objects.filter(job=OuterRef("job"), started_at__gt=OuterRef("started_at")))


def register_retention() -> None:
    from audit.retention import RetentionPolicy, register_policy

    register_policy(
        RetentionPolicy(
            "jobs:runs",
            "HISTORY_RETENTION_DAYS",
            "started_at",
            JobRun.objects.all,
            keep=lambda: ~_newer_runs_of_same_job(),
            label="Job runs",
        )
    )
    register_policy(
        RetentionPolicy(
            "jobs:sync-changes", "HISTORY_RETENTION_DAYS", "at", SyncChange.objects.all, label="Sync changes"
        )
    )
    register_policy(
        RetentionPolicy(
            "jobs:rejected-records",
            "HISTORY_RETENTION_DAYS",
            "at",
            RejectedRecord.objects.all,
            label="Rejected records",
        )
    )
