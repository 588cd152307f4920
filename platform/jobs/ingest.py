"""Data ingestion: records pushed to a `push` source through the API, written exactly as a fetched sync writes them.

`ingest(source, records, complete=…)` is the push counterpart of a sync run (jobs.sync), and reuses its code:

1. takes the lease `ingest.<slug>` (jobs.leases), so two pushes to one source never upsert the same keys at once
   (on Galera two nodes would fail each other's batches); a push while another runs is refused (IngestBusy);
2. records the call as a JobRun named `ingest.<slug>` (owner: the source's section), committed at once;
3. validates every record with the source's Sync (`validate_indexed`: field map, key, required fields, duplicate
   keys), keeps each rejected record (RejectedRecord) and reports it with its position, key and reason;
4. upserts the accepted rows in batches of at most 1,000 (jobs.sync.BATCH_SIZE), each batch its own Galera-safe
   transaction with a SyncChange per created or changed row; unchanged rows are not written;
5. with `complete=True` only: the records not in this push are deleted or marked, as the source's deletion policy
   says (and, as for a sync, an all-rejected or empty complete push while rows are held is refused);
6. notes freshness (SourceFreshness.last_success_at) and completes the run with its counts.

Nothing is written before the input is known to be usable: the API checks the body's shape and size first.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from . import leases
from .fetchers import Fetched, SyncError
from .models import JobRun, Outcome
from .registry import JobSpec, RetryPolicy
from .runner import JobContext
from .sync import Sync, SyncResult, note_attempt, note_success, sync_for
from .sync_models import SourceKind, SyncSource

logger = logging.getLogger("atrium.jobs")


class IngestError(Exception):
    """The push cannot be taken (not a push source, disabled, busy); nothing was written."""


class NotPushSource(IngestError):
    pass


class IngestBusy(IngestError):
    pass


@dataclass(frozen=True)
class RejectedItem:
    """One refused record: its position in the pushed list, its key (when it has one) and why."""

    index: int
    key: str
    reason: str


@dataclass
class IngestResult:
    """What one push did (the API's answer)."""

    run: JobRun
    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    removed: int = 0
    batches: int = 0
    complete: bool = False
    rejections: list[RejectedItem] = field(default_factory=list)


def ingest_spec(source: SyncSource) -> JobSpec:
    """The JobSpec a push runs under (never registered: a push is started by its caller, not by cron)."""
    return JobSpec(
        name=source.job_name,
        function=_not_scheduled,
        schedule=source.schedule,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(attempts=1),
        section=source.owner_slug,
        description=f"Records pushed to {source.name}",
    )


def _not_scheduled(ctx: JobContext) -> None:  # pragma: no cover - never called: push runs are not scheduled
    raise SyncError("A push source's records arrive through the API; there is nothing to run.")


def check_pushable(source: SyncSource) -> None:
    if source.kind != SourceKind.PUSH:
        raise NotPushSource(
            f"{source.slug} is a {source.get_kind_display().split(' (')[0].lower()} source: its data is fetched by "
            f"its job {source.job_name}, not pushed. Only sources of kind “push” take records through the API."
        )
    if not source.enabled:
        raise NotPushSource(f"{source.slug} is disabled: enable it before pushing records.")


def ingest(
    source: SyncSource, records: list[Any], *, complete: bool = False, actor: Any = None, reason: str = ""
) -> IngestResult:
    """Validate and upsert `records` into push source `source` (see the module docstring)."""
    check_pushable(source)
    spec = ingest_spec(source)
    lease = leases.acquire(spec.name, spec.timeout)
    if isinstance(lease, leases.Held):
        raise IngestBusy(f"Another push to {source.slug} is being written ({lease.message(spec.name)}); try again.")
    try:
        run = JobRun.objects.create(
            job=spec.name,
            section_slug=spec.section,
            started_at=timezone.now(),
            host=leases.host_name(),
            pid=os.getpid(),
            detail={
                "source": source.slug,
                "pushed_by": getattr(actor, "username", "") or "",
                "reason": reason[:200],
                "complete": complete,
            },
        )
        return _ingest(spec, source, run, records, complete)
    finally:
        leases.release(lease)


def _ingest(spec: JobSpec, source: SyncSource, run: JobRun, records: list[Any], complete: bool) -> IngestResult:
    ctx = JobContext(spec, run)
    started = time.monotonic()
    sync = sync_for(source)
    result = IngestResult(run=run, received=len(records), complete=complete)
    try:
        _write(sync, ctx, records, result)
    except Exception as exc:
        run.outcome = Outcome.FAILED
        run.error = traceback.format_exc()
        run.message = f"{type(exc).__name__}: {exc}"[:500]
        raise
    else:
        run.outcome = Outcome.SUCCESS
    finally:
        run.finished_at = timezone.now()
        run.duration_seconds = round(time.monotonic() - started, 3)
        run.save()
        logger.log(
            logging.INFO if run.outcome == Outcome.SUCCESS else logging.ERROR,
            "ingest %s %s: %s",
            source.slug,
            run.outcome,
            run.message,
            extra={"job": spec.name, "run": run.pk, "source": source.slug, "outcome": run.outcome},
        )
    return result


def _write(sync: Sync, ctx: JobContext, records: list[Any], result: IngestResult) -> None:
    source, run = sync.source, ctx.run
    sync.now = timezone.now()
    note_attempt(source, sync.now)
    accepted, rejected = sync.validate_indexed(records)
    result.rejections = [RejectedItem(index, rejection.key, rejection.reason) for index, rejection, _ in rejected]
    result.rejected = len(rejected)
    ctx.add(read=len(records), rejected=len(rejected))
    sync.keep_rejections([(rejection, record) for _index, rejection, record in rejected], run)
    outcome = SyncResult(read=len(records), rejected=len(rejected))
    if result.complete:
        # The push says it is the whole dataset: as for a fetched sync, an empty one while rows are held is refused.
        sync.refuse_suspicious_result(Fetched(), accepted, rejected)
    sync.upsert(accepted, ctx, outcome)
    if result.complete:
        seen = set(accepted) | {rejection.key for _index, rejection, _ in rejected if rejection.key}
        sync.handle_vanished(seen, ctx, outcome)
        sync.check_consistency(ctx, Fetched(), accepted, outcome)
    else:
        outcome.held = sync.active_queryset().count()
    result.created, result.updated, result.removed = outcome.created, outcome.changed, outcome.removed
    result.unchanged = len(accepted) - outcome.created - outcome.changed
    result.batches = outcome.batches
    note_success(source, run, sync.now, outcome.held)
    run.detail = {
        **run.detail,
        "received": result.received,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rejected,
        "removed": result.removed,
        "batches": result.batches,
        "held": outcome.held,
    }
    text = sync.describe(outcome) if result.complete else _describe_partial(result, outcome.held)
    run.message = text[:500]


def _describe_partial(result: IngestResult, held: int) -> str:
    return (
        f"{result.received} pushed, {result.created} created, {result.updated} changed, {result.unchanged} unchanged, "
        f"{result.rejected} rejected in {result.batches} batches; {held} rows held"
    )
