"""The sync framework: fetch → validate → upsert in batches → handle vanished rows → check → record freshness.

Every data source is a `SyncSource` row and runs as the job `sync.<slug>` (listed by jobs.jobs). One run:

1. **Fetch** every page (jobs.fetchers) into memory before writing anything. A failure on any page (HTTP 500,
   a time-out, a page that is not JSON) therefore leaves the local copy exactly as it was: nothing half-written.
   The price is memory: a few hundred thousand records of a few hundred bytes is a few hundred MB at most on a
   job server; a source far bigger than that needs a code sync that streams (and gives up this guarantee).
2. **Validate** each record (`Sync.validate`): a clean row, or a `Rejection` with the reason. Rejected records
   are kept (`RejectedRecord`) and the good ones go on. A second record with a key already seen is rejected as
   "duplicate key" (the first one wins).
3. **Refuse a suspicious empty result**: when nothing is accepted but rows are held locally, the run fails and
   deletes nothing, unless the source's reported total says 0. An empty answer after a full one is far more
   often a fault of the source than the truth; a source that really is empty says so with its total.
4. **Upsert** in batches of at most BATCH_SIZE (1,000) rows, each batch its own Galera-safe transaction (write
   sets stay small; a deadlock retries one batch). Unchanged rows are not written. Each created, changed or
   revived row gets a `SyncChange` (the audit: {field: [old, new]}) in the same transaction as the row.
5. **Vanished rows** (held locally, absent from this complete fetch) are deleted or marked (`deleted_at`), as the
   source's deletion policy says, in batches, each with a "-" SyncChange. A record that was rejected this time
   is not "vanished": the source still has it.
6. **Consistency checks** on the run (`run.checks`): `row_count` (rows held now vs the source's reported total,
   or vs the records accepted when the source reports none) and `checksum` (sha256 of the sorted keys joined by
   "\n", vs the source's checksum, or vs the accepted keys). A failed check does not fail the run (the data was
   written as the source sent it); it shows red on the job's page and in the run's message.
7. **Freshness**: on success, `SourceFreshness.last_success_at` and the metrics; every attempt notes
   `last_attempt_at`. The job `jobs.check-freshness` marks stale sources and alerts once per stale episode.

A push source (kind "push") is never fetched: its records arrive through POST /api/v1/sources/{id}/records/ and
go through steps 2 to 7 here (jobs.ingest), as the run `ingest.<slug>`.

If a database error interrupts the upsert, the batches already committed stay (each is whole); the retry or the
next run completes the work, since the upsert converges on the source's data.

A source whose data needs code (another API shape, its own table) is a subclass of `Sync`, registered with
`register_sync(code_name, cls)` and selected in the source's admin form (kind "code"). Hooks to override:

- `fetch()` → `Fetched` (records, reported total/checksum); the default reads the source's base URL.
- `validate(record)` → row dict or `Rejection`; `key(row)` → the row's key as a string.
- the target: `target_queryset()` (this source's local rows), `target_key_field`, `deleted_field` (None if the
  model cannot be marked deleted: only the delete policy then), `model_to_row(obj)` (for the field-level diff),
  `row_to_model(key, row, obj)` (fill a new or existing instance) and `update_fields()`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, router
from django.utils import timezone

from core.services import run_in_transaction

from . import metrics
from .fetchers import MISSING, Fetched, SyncError, dig, fetcher_for
from .models import JobRun
from .registry import JobSpec, RetryPolicy
from .runner import JobContext
from .sync_models import (
    ChangeAction,
    DeletionPolicy,
    RejectedRecord,
    SourceFreshness,
    SourceKind,
    SyncChange,
    SyncedRecord,
    SyncSource,
    file_sources_allowed,
)

logger = logging.getLogger("atrium.jobs")

# Rows per write transaction: Galera's write sets stay small, and a conflict retries one batch, not the sync.
BATCH_SIZE = 1000

Row = dict[str, Any]
T = TypeVar("T")


class SuspiciousResult(SyncError):
    """The source returned nothing usable while rows are held locally; refusing to wipe them."""


@dataclass(frozen=True)
class Rejection:
    """Why a record was refused (and its key, when it has one)."""

    reason: str
    key: str = ""


@dataclass
class SyncResult:
    """What one sync did, for the run's message and detail."""

    read: int = 0
    created: int = 0
    changed: int = 0
    removed: int = 0
    rejected: int = 0
    held: int = 0
    pages: int = 0
    batches: int = 0  # upsert transactions
    failed_checks: list[str] = field(default_factory=list)


# -----------------------------------------------------------------------------------------------------------------
# Canonical forms: checksums and field-level changes
# -----------------------------------------------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """One spelling per value (sorted keys, no spaces), so equal data always has the same checksum."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def jsonable(value: Any) -> Any:
    """`value` as it comes back from a JSON column (dates and decimals as strings)."""
    return json.loads(canonical_json(value))


def record_checksum(row: Row) -> str:
    return hashlib.sha256(canonical_json(row).encode("utf-8")).hexdigest()


def keys_checksum(keys: Iterable[str]) -> str:
    """The checksum a source reports (see checksum_path): sha256 hex of its keys, sorted, joined by "\\n"."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()


def field_changes(old: Row, new: Row) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value differs (a missing field counts as null)."""
    old, new = jsonable(old), jsonable(new)
    return {
        name: [old.get(name), new.get(name)]
        for name in sorted(set(old) | set(new))
        if canonical_json(old.get(name)) != canonical_json(new.get(name))
    }


def created_changes(row: Row) -> dict[str, list[Any]]:
    """field_changes({}, row) for a row already in JSON form (as validated rows are), without re-encoding it:
    a bulk load creates every row, and this is most of its Python work."""
    return {name: [None, row[name]] for name in sorted(row) if row[name] is not None}


def insert_rows(model: type[models.Model], rows: Sequence[Row]) -> None:
    """INSERT `rows` ({field name: value}, foreign keys by id, every row the same fields) with one executemany.

    What bulk_create does, without its cost for a bulk load (a model instance per row and SQL compiled per chunk):
    each value is still prepared by its field, as the ORM would (JSON encoded, datetimes adapted). No signals are
    sent, as bulk_create sends none either. Call it inside the batch's transaction.
    """
    if not rows:
        return
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in rows[0]]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names only
    prepare = [partial(field.get_db_prep_save, connection=connection) for field in fields]
    names = [field.name for field in fields]
    same: dict[tuple[int, datetime], Any] = {}  # a time shared by every row (the run's) is prepared once

    def prepared(index: int, value: Any) -> Any:
        if isinstance(value, datetime):
            if (index, value) not in same:
                same[index, value] = prepare[index](value)
            return same[index, value]
        return prepare[index](value)

    params = [[prepared(index, row[name]) for index, name in enumerate(names)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]


# -----------------------------------------------------------------------------------------------------------------
# The base class
# -----------------------------------------------------------------------------------------------------------------
class Sync:
    """One sync of one source (see the module docstring for the steps and the hooks a subclass overrides)."""

    target_key_field = "key"
    deleted_field: str | None = "deleted_at"

    def __init__(self, source: SyncSource) -> None:
        self.source = source
        self.now = timezone.now()

    # Fetch and validate --------------------------------------------------------------------------------------------
    def fetch(self) -> Fetched:
        return fetcher_for(self.source).fetch_all()

    def validate(self, record: Any) -> Row | Rejection:
        """Map the record through the source's field map; reject it if the key or a required field is missing."""
        if not isinstance(record, dict):
            return Rejection(f"not a JSON object but {type(record).__name__}")
        row = self.map_fields(record)
        key_field = self.source.key_field
        key_value = row.get(key_field)
        missing = [name for name in self.source.required_fields if _blank(row.get(name))]
        if _blank(key_value) and key_field not in missing:
            missing.insert(0, key_field)
        key = "" if _blank(key_value) or isinstance(key_value, dict | list) else str(key_value)[:255]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            return Rejection(f"missing required field{plural}: {', '.join(missing)}", key)
        if isinstance(key_value, dict | list | bool):
            return Rejection(f"the key ({key_field}) is not a single value", "")
        if len(str(key_value)) > 255:
            return Rejection(f"the key ({key_field}) is longer than 255 characters", key)
        return row

    def map_fields(self, record: Row) -> Row:
        field_map = self.source.field_map
        if not field_map:
            return dict(record)
        row = {}
        for target, path in field_map.items():
            value = dig(record, path)
            row[target] = None if value is MISSING else value
        return row

    def key(self, row: Row) -> str:
        return str(row[self.source.key_field])

    # The target (override for a code sync with its own model) -----------------------------------------------------
    def target_queryset(self) -> models.QuerySet[Any]:
        return SyncedRecord.objects.filter(source=self.source)

    def model_to_row(self, obj: Any) -> Row:
        return dict(obj.data)

    def row_to_model(self, key: str, row: Row, obj: Any | None) -> Any:
        if obj is None:
            return SyncedRecord(
                source=self.source,
                key=key,
                data=row,
                checksum=record_checksum(row),
                first_seen=self.now,
                updated_at=self.now,
            )
        obj.data = row
        obj.checksum = record_checksum(row)
        obj.updated_at = self.now
        return obj

    def update_fields(self) -> list[str]:
        return ["data", "checksum", "updated_at"]

    def active_queryset(self) -> models.QuerySet[Any]:
        """The rows the source has now (not marked deleted)."""
        queryset = self.target_queryset()
        return queryset.filter(**{f"{self.deleted_field}__isnull": True}) if self.deleted_field else queryset

    # The run -------------------------------------------------------------------------------------------------------
    def run(self, ctx: JobContext) -> SyncResult:
        """One attempt at a complete sync (the runner calls it again on a transient failure)."""
        self.now = timezone.now()
        self._start_attempt(ctx)
        note_attempt(self.source, self.now)
        fetched = self.fetch()
        result = SyncResult(read=len(fetched.records), pages=fetched.pages)
        accepted, rejected = self.validate_all(fetched.records)
        result.rejected = len(rejected)
        ctx.add(read=result.read, rejected=result.rejected)
        self.keep_rejections(rejected, ctx.run)
        self.refuse_suspicious_result(fetched, accepted, rejected)
        self.upsert(accepted, ctx, result)
        seen = set(accepted) | {rejection.key for rejection, _ in rejected if rejection.key}
        self.handle_vanished(seen, ctx, result)
        self.check_consistency(ctx, fetched, accepted, result)
        note_success(self.source, ctx.run, self.now, result.held)
        ctx.run.detail = {
            "source": self.source.slug,
            "pages": result.pages,
            "created": result.created,
            "changed": result.changed,
            "removed": result.removed,
            "held": result.held,
            "reported_total": fetched.reported_total,
        }
        ctx.message = self.describe(result)
        return result

    def _start_attempt(self, ctx: JobContext) -> None:
        # A retried attempt starts over: the run shows what the attempt that finished did, not a sum of attempts.
        ctx.run.rows_read = ctx.run.rows_written = ctx.run.rows_rejected = 0
        ctx.run.checks = {}
        if ctx.run.pk:
            RejectedRecord.objects.filter(run=ctx.run).delete()

    def validate_all(self, records: list[Any]) -> tuple[dict[str, Row], list[tuple[Rejection, Any]]]:
        """The accepted rows by key (in the source's order) and the rejections with their raw records."""
        accepted, rejected = self.validate_indexed(records)
        return accepted, [(rejection, record) for _index, rejection, record in rejected]

    def validate_indexed(self, records: Sequence[Any]) -> tuple[dict[str, Row], list[tuple[int, Rejection, Any]]]:
        """As validate_all, each rejection with the record's position in `records` (the ingestion API reports it)."""
        accepted: dict[str, Row] = {}
        rejected: list[tuple[int, Rejection, Any]] = []
        for index, record in enumerate(records):
            outcome = self.validate(record)
            if isinstance(outcome, Rejection):
                rejected.append((index, outcome, record))
                continue
            key = self.key(outcome)
            if key in accepted:
                rejected.append((index, Rejection("duplicate key", key), record))
                continue
            accepted[key] = jsonable(outcome)
        return accepted, rejected

    def keep_rejections(self, rejected: list[tuple[Rejection, Any]], run: JobRun) -> None:
        rows = [
            RejectedRecord(
                run=run,
                source=self.source,
                key=rejection.key,
                reason=rejection.reason[:500],
                record=RejectedRecord.keepable(record),
                at=self.now,
            )
            for rejection, record in rejected
        ]
        for batch in chunks(rows, BATCH_SIZE):
            run_in_transaction(partial(RejectedRecord.objects.bulk_create, list(batch)))
        for rejection, _record in rejected[:20]:  # enough to see the pattern; all of them are in the table
            logger.warning(
                "sync %s rejected %s: %s",
                self.source.slug,
                rejection.key or "a record",
                rejection.reason,
                extra={"job": self.source.job_name, "source": self.source.slug},
            )

    def refuse_suspicious_result(self, fetched: Fetched, accepted: dict[str, Row], rejected: list[Any]) -> None:
        """Nothing accepted while rows are held locally: fail, delete nothing (unless the source says it has 0)."""
        if accepted or fetched.reported_total == 0:
            return
        held = self.active_queryset().count()
        if not held:
            return
        verb = "mark them deleted" if self.source.deletion_policy == DeletionPolicy.MARK else "delete them"
        if rejected:
            raise SuspiciousResult(
                f"All {len(rejected)} records from the source were rejected (see Rejected records), while {held} rows "
                f"are held locally: refusing to {verb}. Fix the source or the field mapping."
            )
        raise SuspiciousResult(
            f"The source returned no records, but {held} rows are held locally: refusing to {verb} (an empty answer "
            "after a full one is usually a fault). If the source really is empty, it must report a total of 0"
            f"{' at ' + self.source.total_path if self.source.total_path else ' (set the total path)'}; "
            "the rows are unchanged."
        )

    # Writing -------------------------------------------------------------------------------------------------------
    def upsert(self, accepted: dict[str, Row], ctx: JobContext, result: SyncResult) -> None:
        items = list(accepted.items())
        for batch in chunks(items, BATCH_SIZE):
            result.batches += 1
            created, changed = run_in_transaction(partial(self.write_batch, batch, ctx.run))
            result.created += created
            result.changed += changed
            ctx.add(written=created + changed)
            ctx.save_progress()

    def write_batch(self, batch: Sequence[tuple[str, Row]], run: JobRun) -> tuple[int, int]:
        """Create new rows, update changed ones, revive marked ones; one SyncChange each. Returns (created, changed)."""
        keys = [key for key, _row in batch]
        existing = {
            getattr(obj, self.target_key_field): obj
            for obj in self.target_queryset().filter(**{f"{self.target_key_field}__in": keys})
        }
        creates: list[tuple[str, Row]] = []
        updates, audit = [], []
        for key, row in batch:
            obj = existing.get(key)
            if obj is None:
                creates.append((key, row))
                audit.append(self._change(run, key, ChangeAction.CREATED, created_changes(row)))
                continue
            deleted_at = getattr(obj, self.deleted_field) if self.deleted_field else None
            changes = field_changes(self.model_to_row(obj), row)
            if not changes and deleted_at is None:
                continue  # unchanged: no write, no audit entry
            self.row_to_model(key, row, obj)
            if deleted_at is not None and self.deleted_field:
                # Back in the source after being marked deleted: present again, and the audit says so.
                setattr(obj, self.deleted_field, None)
                changes[self.deleted_field] = [jsonable(deleted_at), None]
            updates.append(obj)
            action = ChangeAction.CREATED if deleted_at is not None else ChangeAction.CHANGED
            audit.append(self._change(run, key, action, changes))
        model = self.target_queryset().model
        if creates:
            self.create_rows(creates)
        if updates:
            fields = self.update_fields() + ([self.deleted_field] if self.deleted_field else [])
            model._default_manager.bulk_update(updates, fields)
        insert_rows(SyncChange, audit)
        return len(creates), len(updates)

    def create_rows(self, rows: Sequence[tuple[str, Row]]) -> None:
        """Insert new rows: the generic SyncedRecord straight from the rows (a bulk load creates every row, and
        building model instances would be most of its work), any other target through row_to_model."""
        if self.target_queryset().model is SyncedRecord and type(self).row_to_model is Sync.row_to_model:
            insert_rows(
                SyncedRecord,
                [
                    {
                        "source": self.source.pk,
                        "key": key,
                        "data": row,
                        "checksum": record_checksum(row),
                        "first_seen": self.now,
                        "updated_at": self.now,
                        "deleted_at": None,
                    }
                    for key, row in rows
                ],
            )
            return
        model = self.target_queryset().model
        model._default_manager.bulk_create([self.row_to_model(key, row, None) for key, row in rows])

    def handle_vanished(self, seen: set[str], ctx: JobContext, result: SyncResult) -> None:
        """Delete or mark the rows this complete fetch no longer has, as the source's deletion policy says."""
        mark = self.source.deletion_policy == DeletionPolicy.MARK
        if mark and not self.deleted_field:
            raise SyncError(f"{type(self).__name__}'s rows cannot be marked deleted: choose the delete policy.")
        # Under "delete", rows marked earlier (when the policy was "mark") go too.
        candidates = self.active_queryset() if mark else self.target_queryset()
        held = candidates.values_list(self.target_key_field, flat=True)
        vanished = sorted(str(key) for key in held if str(key) not in seen)
        for batch in chunks(vanished, BATCH_SIZE):
            removed = run_in_transaction(partial(self.remove_batch, batch, ctx.run, mark))
            result.removed += removed
            ctx.add(written=removed)
            ctx.save_progress()
        result.held = self.active_queryset().count()

    def remove_batch(self, keys: Sequence[str], run: JobRun, mark: bool) -> int:
        queryset = self.target_queryset().filter(**{f"{self.target_key_field}__in": list(keys)})
        rows = list(queryset)
        audit = [
            self._change(run, str(getattr(obj, self.target_key_field)), ChangeAction.DELETED, self._removal(obj, mark))
            for obj in rows
        ]
        if mark and self.deleted_field:
            queryset.update(**{self.deleted_field: self.now})
        else:
            queryset.delete()
        insert_rows(SyncChange, audit)
        return len(rows)

    def _removal(self, obj: Any, mark: bool) -> dict[str, list[Any]]:
        changes = field_changes(self.model_to_row(obj), {})
        if mark and self.deleted_field:
            changes[self.deleted_field] = [None, jsonable(self.now)]
        return changes

    def _change(self, run: JobRun, key: str, action: str, changes: dict[str, list[Any]]) -> Row:
        """A SyncChange row, for insert_rows."""
        return {
            "run": run.pk,
            "source": self.source.pk,
            "key": key,
            "action": action,
            "changes": changes,
            "at": self.now,
        }

    # Checks --------------------------------------------------------------------------------------------------------
    def check_consistency(
        self, ctx: JobContext, fetched: Fetched, accepted: dict[str, Row], result: SyncResult
    ) -> None:
        """Row count and checksum of what is held now, against what the source reported (or what was accepted)."""
        held_keys = [str(key) for key in self.active_queryset().values_list(self.target_key_field, flat=True)]
        expected_count = fetched.reported_total if fetched.reported_total is not None else len(accepted)
        count_ok = len(held_keys) == expected_count
        ctx.check(
            "row_count",
            count_ok,
            held=len(held_keys),
            expected=expected_count,
            against="source" if fetched.reported_total is not None else "accepted records",
            rejected=result.rejected,
        )
        held_checksum = keys_checksum(held_keys)
        expected_checksum = fetched.reported_checksum or keys_checksum(accepted)
        checksum_ok = held_checksum == expected_checksum
        ctx.check(
            "checksum",
            checksum_ok,
            held=held_checksum,
            expected=expected_checksum,
            against="source" if fetched.reported_checksum else "accepted records",
        )
        result.failed_checks = [name for name, ok in (("row_count", count_ok), ("checksum", checksum_ok)) if not ok]
        if result.failed_checks:
            logger.warning(
                "sync %s: consistency check failed: %s",
                self.source.slug,
                ", ".join(result.failed_checks),
                extra={"job": self.source.job_name, "source": self.source.slug, "checks": ctx.run.checks},
            )

    def describe(self, result: SyncResult) -> str:
        removed = "marked deleted" if self.source.deletion_policy == DeletionPolicy.MARK else "deleted"
        text = (
            f"{result.read} read, {result.created} created, {result.changed} changed, {result.removed} {removed}, "
            f"{result.rejected} rejected; {result.held} rows held"
        )
        if result.failed_checks:
            return f"{text}; CHECK FAILED: {', '.join(result.failed_checks)}"
        return f"{text}; checks passed"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class RestSync(Sync):
    """The generic source: everything (address, paging, mapping, required fields) comes from its SyncSource row."""


class PushSync(Sync):
    """A push source: its records arrive through the ingestion API (jobs.ingest), validated and upserted by the same
    code as a fetched sync; there is nothing to fetch."""

    def fetch(self) -> Fetched:
        raise SyncError(f"{self.source.name} is a push source: its records arrive through the API, never fetched.")


# -----------------------------------------------------------------------------------------------------------------
# Code syncs: registered subclasses
# -----------------------------------------------------------------------------------------------------------------
_syncs: dict[str, type[Sync]] = {}


def register_sync(code_name: str, cls: type[Sync]) -> type[Sync]:
    """Make `cls` selectable as a code source's sync under `code_name` (call it from your app's jobs.py)."""
    existing = _syncs.get(code_name)
    if existing is not None and existing is not cls:
        raise ValueError(f"Two syncs are both registered as {code_name}.")
    _syncs[code_name] = cls
    return cls


def unregister_sync(code_name: str) -> None:
    """Forget a registered sync (tests register throw-away ones)."""
    _syncs.pop(code_name, None)


def registered_syncs() -> dict[str, type[Sync]]:
    return dict(_syncs)


def sync_for(source: SyncSource) -> Sync:
    if source.kind == SourceKind.REST:
        return RestSync(source)
    if source.kind == SourceKind.PUSH:
        return PushSync(source)
    cls = _syncs.get(source.code_name)
    if cls is None:
        raise SyncError(f"No sync is registered as “{source.code_name}” (is its app installed on this job server?).")
    return cls(source)


# -----------------------------------------------------------------------------------------------------------------
# The jobs: one per enabled source, and the freshness check
# -----------------------------------------------------------------------------------------------------------------
def run_source(slug: str, ctx: JobContext) -> None:
    """The function of job sync.<slug>: read the source's row now (it may have changed) and sync it."""
    source = SyncSource.objects.select_related("section").get(slug=slug)
    if not source.enabled:
        ctx.message = f"{source.name} is disabled; nothing done."
        return
    sync_for(source).run(ctx)


def job_spec(source: SyncSource) -> JobSpec:
    return JobSpec(
        name=source.job_name,
        function=partial(run_source, source.slug),
        schedule=source.schedule,
        timeout=source.timeout_seconds,
        retry=RetryPolicy(attempts=source.max_attempts),
        section=source.owner_slug,
        description=f"Sync {source.name}",
    )


def sync_job_specs() -> list[JobSpec]:
    """The job provider: one JobSpec per enabled fetched source (a row that cannot be a job is logged and left out)."""
    specs = []
    # Push sources are not jobs: nothing runs on a schedule, their records arrive through the API.
    sources = SyncSource.objects.filter(enabled=True).exclude(kind=SourceKind.PUSH)
    for source in sources.select_related("section").order_by("slug"):
        try:
            specs.append(job_spec(source))
        except ValueError:
            logger.exception("data source %s cannot be scheduled", source.slug, extra={"source": source.slug})
    return specs


# -----------------------------------------------------------------------------------------------------------------
# Freshness
# -----------------------------------------------------------------------------------------------------------------
def note_attempt(source: SyncSource, now: datetime) -> None:
    def work() -> None:
        state, _ = SourceFreshness.objects.get_or_create(source=source)
        SourceFreshness.objects.filter(pk=state.pk).update(last_attempt_at=now)

    run_in_transaction(work)


def note_success(source: SyncSource, run: JobRun, fetched_at: datetime, row_count: int) -> None:
    """The data is as fresh as the fetch that succeeded; a stale episode ends here (the next one alerts again)."""

    def work() -> SourceFreshness:
        state, _ = SourceFreshness.objects.get_or_create(source=source)
        if state.stale_since is not None:
            logger.info(
                "data source %s is fresh again (stale since %s)",
                source.slug,
                state.stale_since.isoformat(),
                extra={"source": source.slug, "event": "sync_fresh_again"},
            )
        SourceFreshness.objects.filter(pk=state.pk).update(
            last_success_at=fetched_at,
            last_run=run if run.pk else None,
            last_row_count=row_count,
            stale_since=None,
            stale_alerted_at=None,
        )
        return state

    run_in_transaction(work)
    metrics.record_source(source.slug, fetched_at, stale=False)


@dataclass
class FreshnessReport:
    checked: int = 0
    stale: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


def check_freshness(now: datetime | None = None) -> FreshnessReport:
    """Mark enabled sources stale or fresh; alert once per stale episode (the job jobs.check-freshness)."""
    now = now or timezone.now()
    report = FreshnessReport()
    for source in SyncSource.objects.filter(enabled=True).select_related("section").order_by("slug"):
        state, _ = run_in_transaction(partial(SourceFreshness.objects.get_or_create, source=source))
        state.source = source
        report.checked += 1
        stale = state.is_stale
        metrics.record_source(source.slug, state.last_success_at, stale=stale)
        if not stale:
            if state.stale_since is not None or state.stale_alerted_at is not None:
                _update_freshness(state, stale_since=None, stale_alerted_at=None)
                report.recovered.append(source.slug)
            continue
        report.stale.append(source.slug)
        if state.stale_since is None:
            _update_freshness(state, stale_since=min(now, state.overdue_since()))
        if state.overdue_since() <= now and _claim_alert(state, now):
            alert_stale(source, state)
            report.alerted.append(source.slug)
    return report


def _update_freshness(state: SourceFreshness, **values: Any) -> None:
    run_in_transaction(lambda: SourceFreshness.objects.filter(pk=state.pk).update(**values))


def _claim_alert(state: SourceFreshness, now: datetime) -> bool:
    """Take the episode's one alert: a conditional update, so two checkers can never both send it."""
    return bool(
        run_in_transaction(
            lambda: SourceFreshness.objects.filter(pk=state.pk, stale_alerted_at__isnull=True).update(
                stale_alerted_at=now
            )
        )
    )


def alert_stale(source: SyncSource, state: SourceFreshness) -> None:
    """A CRITICAL line on atrium.jobs and an e-mail to the section's support address (or the platform's)."""
    last = state.last_success_at.isoformat() if state.last_success_at else "never"
    owner = source.owner_slug or "platform"
    logger.critical(
        "data source %s is stale: last successful sync %s, freshness target %s min",
        source.slug,
        last,
        source.freshness_target_minutes,
        extra={"event": "sync_stale", "source": source.slug, "section": owner, "last_success": last},
    )
    recipients = stale_alert_recipients(source)
    if not recipients:
        logger.warning(
            "stale alert for %s not e-mailed: nobody to send it to", source.slug, extra={"source": source.slug}
        )
        return
    body = (
        f"The data of “{source.name}” ({source.slug}, owner: {owner}) is stale.\n\n"
        f"Last successful sync: {last}\n"
        f"Freshness target: {source.freshness_target_minutes} minutes\n"
        f"Job: {source.job_name}. Its page (/jobs/{source.job_name}/) shows the latest runs and their errors.\n\n"
        "Pages built on this data show it as it was at the last successful sync. You will not be e-mailed again "
        "until the data has been fresh once more."
    )
    send_mail(f"[Atrium] Stale data: {source.name}", body, None, recipients, fail_silently=True)


def stale_alert_recipients(source: SyncSource) -> list[str]:
    """The owning section's support address; else the platform's alert addresses (or ADMINS)."""
    if source.section is not None and source.section.support_email:
        return [source.section.support_email]
    platform = [str(address) for address in getattr(settings, "SECURITY_ALERT_EMAILS", [])]
    return platform or [address for _name, address in getattr(settings, "ADMINS", [])]


# -----------------------------------------------------------------------------------------------------------------
# The demo source
# -----------------------------------------------------------------------------------------------------------------
DEMO_REASON = "Demo data"
AP_INVOICES = {
    "name": "AP platform invoices",
    "description": "Open and recent supplier invoices from the accounts-payable platform (demo: local files).",
    "kind": SourceKind.REST,
    "paging": "page_number",
    "page_size": 25,
    "records_path": "data.invoices",
    "total_path": "meta.total",
    "checksum_path": "meta.checksum",
    "key_field": "invoice_number",
    "field_map": {
        "invoice_number": "number",
        "supplier": "supplier.name",
        "supplier_id": "supplier.id",
        "amount": "amount.value",
        "currency": "amount.currency",
        "invoice_date": "invoice_date",
        "due_date": "due_date",
        "status": "status",
        "cost_centre": "cost_centre",
    },
    "required_fields": ["invoice_number", "supplier", "amount", "currency", "due_date"],
    "deletion_policy": DeletionPolicy.MARK,
    "schedule": "*/15 * * * *",
    "timeout_seconds": 300,
    "max_attempts": 3,
    "request_timeout_seconds": 30.0,
    "freshness_target_minutes": 60,
}


def demo_source_directory() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "sources" / "ap-invoices"


def ensure_demo_sources(actor: Any = None) -> list[str]:
    """Create or update the demo's `ap-invoices` source (finance's, if that section exists); idempotent.

    Its data comes from fixtures/sources/ap-invoices (a file:// source), so only in dev and test.
    """
    from tenants.models import Section

    from .services import save_source

    if not file_sources_allowed():
        return ["ap-invoices: skipped (file sources are for dev and test only)"]
    wanted = {
        **AP_INVOICES,
        "base_url": demo_source_directory().as_uri(),
        "section": Section.objects.filter(slug="finance").first(),
    }
    source = SyncSource.objects.filter(slug="ap-invoices").first()
    created = source is None
    if source is None:
        source = SyncSource(slug="ap-invoices")
    changed = [name for name, value in wanted.items() if getattr(source, name) != value]
    if not changed:
        return ["ap-invoices: unchanged"]
    for name, value in wanted.items():
        setattr(source, name, value)
    save_source(source, actor=actor, reason=DEMO_REASON)
    return [f"ap-invoices: {'created' if created else 'updated'}"]
