"""Write paths for the jobs app: data sources (SyncSource) and requests to run a job now (JobRequest).

Every change to a source goes through here (the admin, the demo loader, tests): validated, saved with the acting
user and a reason in its history, in a Galera-safe transaction. The synced data itself is written only by the
sync framework (jobs.sync).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, models
from django.utils import timezone

from core.services import delete_with_history, run_in_transaction, save_with_history

from .models import JobRequest
from .registry import JobSpec
from .sync_models import RejectedRecord, SourceFreshness, SyncChange, SyncedRecord, SyncSource

logger = logging.getLogger("atrium.jobs")

# Deleting a big source's rows must respect the same write-set limit as loading them.
DELETE_BATCH_SIZE = 1000


def save_source(source: SyncSource, *, actor: Any, reason: str) -> SyncSource:
    """Create or change a data source (its job sync.<slug> follows at once; cron after the next render_crontab)."""
    return run_in_transaction(lambda: save_with_history(source, actor=actor, reason=reason))  # type: ignore[return-value]


def delete_source(source: SyncSource, *, actor: Any, reason: str) -> None:
    """Delete a data source with its synced records, audit entries, rejections and freshness.

    The rows go first, in batches (a source can hold hundreds of thousands); the source itself last, with its
    history entry. Disabling a source keeps everything and only stops the job.
    """
    for model in (SyncedRecord, SyncChange, RejectedRecord, SourceFreshness):
        _delete_in_batches(model._default_manager.filter(source=source))
    run_in_transaction(lambda: delete_with_history(source, actor=actor, reason=reason))


def _delete_in_batches(queryset: models.QuerySet[Any]) -> None:
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:DELETE_BATCH_SIZE])
        if not ids:
            return
        run_in_transaction(partial(_delete_ids, queryset.model, ids))


def _delete_ids(model: type[models.Model], ids: list[Any]) -> None:
    model._default_manager.filter(pk__in=ids).delete()


@dataclass(frozen=True)
class RequestedRun:
    request: JobRequest
    created: bool  # False: a request for this job was already waiting, and is the one returned


def request_run(spec: JobSpec, *, actor: Any, reason: str) -> RequestedRun:
    """Ask the job servers to run `spec` now: a JobRequest (who, when, why) that `jobs.run-requested` picks up.

    At most one request per job waits at a time (JobRequest.pending is unique): asking again while one waits
    returns the waiting request and records nothing new.
    """
    waiting = JobRequest.objects.filter(pending=spec.name).first()
    if waiting is not None:
        return RequestedRun(waiting, created=False)
    request = JobRequest(
        job=spec.name,
        section_slug=spec.section,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        requested_at=timezone.now(),
        reason=reason[:200],
        pending=spec.name,
    )
    try:
        run_in_transaction(request.save)
    except IntegrityError:
        # Another web instance (or Galera node) recorded one a moment ago: that one stands.
        waiting = JobRequest.objects.filter(pending=spec.name).first()
        if waiting is None:  # picked up in between: ask once more
            return request_run(spec, actor=actor, reason=reason)
        return RequestedRun(waiting, created=False)
    logger.info(
        "run of %s requested by %s: %s",
        spec.name,
        getattr(actor, "username", "?"),
        reason,
        extra={"job": spec.name, "event": "job_run_requested", "request": request.pk},
    )
    return RequestedRun(request, created=True)
