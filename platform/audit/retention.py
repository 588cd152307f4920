"""Retention: how long each kind of record is kept, and the purge that removes what is older.

Each table with a retention period is a `RetentionPolicy`: a name, the live setting (django-constance) that holds
its period in days, the date field that ages its rows, a factory for the rows it covers and, optionally, a `keep`
condition for rows that must survive whatever their age. Built in: security events, django-axes' access and
failure logs (both on the security-event period) and configuration history, one policy per history table, each
keeping the newest version of every object (the History tab and the point-in-time view rebuild the current state
from it).

Another app adds its own table with one call in its `AppConfig.ready()`::

    def ready(self) -> None:
        from audit.retention import RetentionPolicy, register_policy
        from .models import PageVisit

        register_policy(
            RetentionPolicy(
                "analytics:page-visits", "ANALYTICS_RETENTION_DAYS", "started", PageVisit.objects.all,
                label="page visits",
            )
        )

The setting must be a key of CONSTANCE_CONFIG. A period of 0 days or less means "keep forever".

`purge(policy)` deletes one table's expired rows in small batches; `purge_all()` runs every policy (or a chosen
few), logs one line per table on `atrium.jobs` and records one RETENTION_PURGE security event with the counts.
`manage.py purge_expired` is the command the job servers run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit.queries import HistoryModel, history_models
from core.live import live_setting
from core.security import EventType, record_security_event
from core.services import run_in_transaction

logger = logging.getLogger("atrium.jobs")

# Every DELETE batch is one transaction, which Galera replicates to every node as one write-set and certifies
# against concurrent writes before it commits. A large write-set can exceed wsrep_max_ws_rows/wsrep_max_ws_size,
# stalls the other nodes while they apply it (flow control), and holds its row locks long enough to collide
# with users' writes. A thousand rows (the platform-wide rule for bulk writes) stays well inside all three.
DEFAULT_BATCH_SIZE = 1000

# A policy "group" is the part of its name before the colon: `--only history` selects every history table.
GROUP_SEPARATOR = ":"


@dataclass(frozen=True)
class RetentionPolicy:
    """One table's retention: rows of `queryset()` whose `date_field` is older than the `setting`'s days go."""

    name: str
    setting: str
    date_field: str
    queryset: Callable[[], QuerySet[Any]]
    # A filter condition (Q or boolean expression) for rows that are kept whatever their age; None keeps nothing.
    keep: Callable[[], Any] | None = None
    label: str = ""

    @property
    def title(self) -> str:
        """What the operator reads in the command's output: the label, or the name when there is none."""
        return self.label or self.name

    @property
    def group(self) -> str:
        return self.name.split(GROUP_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class PurgeResult:
    """What one policy's purge did (or, in a dry run, would do). `cutoff` is None when the period is "forever"."""

    name: str
    cutoff: datetime | None
    deleted: int
    batches: int
    title: str = ""
    setting: str = ""
    days: int = 0
    dry_run: bool = False

    @property
    def kept_forever(self) -> bool:
        return self.cutoff is None

    def describe(self) -> str:
        """One line for the operator, e.g. "security events: 1,234 rows older than … removed in 2 batches"."""
        title = self.title or self.name
        if self.cutoff is None:
            return f"{title}: kept forever ({self.setting} is {self.days})"
        rows = f"{count_of(self.deleted, 'row')} older than {format_cutoff(self.cutoff)}"
        if self.dry_run:
            return f"{title}: {rows} would be removed in {count_of(self.batches, 'batch')} (dry run)"
        return f"{title}: {rows} removed in {count_of(self.batches, 'batch')}"


class UnknownPolicyError(ValueError):
    """`--only` named a policy (or group) that does not exist."""


def count_of(number: int, noun: str) -> str:
    """A count with its noun, as the operator reads it: "1 row", "1,234 rows", "2 batches"."""
    plural = noun + ("es" if noun.endswith("ch") else "s")
    return f"{number:,} {noun if number == 1 else plural}"


def format_cutoff(cutoff: datetime) -> str:
    """The cutoff in UTC to the second, the same on every server whatever its time zone."""
    return cutoff.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# ---------------------------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------------------------
_registered: dict[str, RetentionPolicy] = {}


def register_policy(policy: RetentionPolicy) -> RetentionPolicy:
    """Add `policy` to the purge (re-registering a name replaces it, so a repeated `ready()` is harmless)."""
    if policy.setting not in getattr(settings, "CONSTANCE_CONFIG", {}):
        raise ImproperlyConfigured(f"Retention policy {policy.name}: {policy.setting} is not a live setting.")
    _registered[policy.name] = policy
    return policy


def unregister_policy(name: str) -> None:
    """Remove a registered policy (tests, and an app that is switched off)."""
    _registered.pop(name, None)


def policies() -> list[RetentionPolicy]:
    """Every policy: the built-in ones first, then those other apps registered, in registration order."""
    built_in = builtin_policies()
    taken = {policy.name for policy in built_in}
    return built_in + [policy for name, policy in _registered.items() if name not in taken]


def select_policies(names: Iterable[str] | None = None) -> list[RetentionPolicy]:
    """The policies named in `names` (a policy's name, or its group such as "history"); all of them for None."""
    every = policies()
    if not names:
        return every
    wanted = set(names)
    known = {policy.name for policy in every} | {policy.group for policy in every}
    unknown = sorted(wanted - known)
    if unknown:
        raise UnknownPolicyError(f"No retention policy named {', '.join(unknown)}. Known: {', '.join(sorted(known))}.")
    return [policy for policy in every if policy.name in wanted or policy.group in wanted]


# ---------------------------------------------------------------------------------------------------------------
# Built-in policies
# ---------------------------------------------------------------------------------------------------------------
def builtin_policies() -> list[RetentionPolicy]:
    return [security_event_policy(), *axes_policies(), *history_policies()]


def security_event_policy() -> RetentionPolicy:
    from accounts.models import SecurityEvent

    return RetentionPolicy(
        "security-events",
        "SECURITY_EVENT_RETENTION_DAYS",
        "created",
        SecurityEvent.objects.all,
        label="security events",
    )


def axes_policies() -> list[RetentionPolicy]:
    """django-axes' sign-in logs, on the security-event period. AccessAttempt is left alone: it drives lock-outs,
    and axes clears it itself once AXES_COOLOFF_TIME has passed."""
    if not apps.is_installed("axes"):
        return []
    from axes.models import AccessFailureLog, AccessLog

    return [
        RetentionPolicy(
            "axes:access-log",
            "SECURITY_EVENT_RETENTION_DAYS",
            "attempt_time",
            AccessLog.objects.all,
            label="sign-in access log",
        ),
        RetentionPolicy(
            "axes:failure-log",
            "SECURITY_EVENT_RETENTION_DAYS",
            "attempt_time",
            AccessFailureLog.objects.all,
            label="sign-in failure log",
        ),
    ]


def history_policies() -> list[RetentionPolicy]:
    """One policy per history table, so each table is purged (and counted) on its own."""
    return [history_policy(hm) for hm in history_models()]


def history_policy(hm: HistoryModel) -> RetentionPolicy:
    # The base manager: retention covers every section's history, whatever section a request may have set.
    history = hm.history_model._base_manager
    return RetentionPolicy(
        f"history:{hm.key}",
        "HISTORY_RETENTION_DAYS",
        "history_date",
        history.all,
        keep=lambda: ~Exists(newer_versions(hm)),
        label=f"{hm.verbose_name} history",
    )


def newer_versions(hm: HistoryModel) -> QuerySet[Any]:
    """Versions of the outer row's object that are newer than it, in the order the History tab and the
    point-in-time view use (history_date, then history_id). A row with none is its object's newest version."""
    outer_date, outer_id = OuterRef("history_date"), OuterRef("history_id")
    return hm.history_model._base_manager.filter(
        Q(history_date__gt=outer_date) | Q(history_date=outer_date, history_id__gt=outer_id),
        **{hm.pk_column: OuterRef(hm.pk_column)},
    )


# ---------------------------------------------------------------------------------------------------------------
# Purging
# ---------------------------------------------------------------------------------------------------------------
def retention_days(policy: RetentionPolicy) -> int:
    return int(live_setting(policy.setting))


def expired_rows(policy: RetentionPolicy, cutoff: datetime) -> QuerySet[Any]:
    """The rows `policy` removes at `cutoff`: strictly older than it, and not protected by `keep`."""
    rows = policy.queryset().filter(**{f"{policy.date_field}__lt": cutoff})
    if policy.keep is not None:
        rows = rows.exclude(policy.keep())
    return rows


@dataclass(frozen=True)
class Batch:
    """One batch's outcome: the highest primary key it selected (where the next batch starts) and rows deleted."""

    last_pk: Any
    deleted: int


def delete_batch(policy: RetentionPolicy, cutoff: datetime, after: Any, batch_size: int) -> Batch | None:
    """Delete up to `batch_size` expired rows with a primary key above `after` in one short transaction;
    None when nothing is left."""

    def work() -> Batch | None:
        rows = expired_rows(policy, cutoff)
        if after is not None:
            # Seek past the rows already handled, so rows that `keep` protects are not re-read by every batch.
            rows = rows.filter(pk__gt=after)
        pks = list(rows.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return None
        # By primary key (MariaDB refuses a DELETE whose subquery reads the same table), and with the date test
        # again, so a row inside the period is never deleted, whatever changed since the selection.
        model = rows.model
        _, per_model = model._base_manager.filter(pk__in=pks, **{f"{policy.date_field}__lt": cutoff}).delete()
        return Batch(pks[-1], per_model.get(model._meta.label, 0))

    return run_in_transaction(work)


def purge(
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> PurgeResult:
    """Delete `policy`'s rows older than its period (counted from `now`), `batch_size` rows per transaction.

    Rows at or after the cutoff are never touched. A period of 0 days or less keeps everything. A dry run
    counts what would go and deletes nothing.
    """
    if batch_size < 1:
        raise ValueError(f"The batch size must be at least 1, not {batch_size}.")
    days = retention_days(policy)
    result = PurgeResult(
        policy.name, None, 0, 0, title=policy.title, setting=policy.setting, days=days, dry_run=dry_run
    )
    if days <= 0:
        return result
    cutoff = (now or timezone.now()) - timedelta(days=days)
    if dry_run:
        count = expired_rows(policy, cutoff).count()
        return replace(result, cutoff=cutoff, deleted=count, batches=math.ceil(count / batch_size))
    deleted, batches = delete_expired(policy, cutoff, batch_size)
    return replace(result, cutoff=cutoff, deleted=deleted, batches=batches)


def delete_expired(policy: RetentionPolicy, cutoff: datetime, batch_size: int) -> tuple[int, int]:
    """Delete batch after batch until none is left; return (rows deleted, batches)."""
    deleted = batches = 0
    last = None
    while batch := delete_batch(policy, cutoff, last, batch_size):
        deleted += batch.deleted
        batches += 1
        last = batch.last_pk
    return deleted, batches


def purge_all(
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    only: Iterable[str] | None = None,
) -> list[PurgeResult]:
    """Purge every policy (or those named in `only`), log a line for each, and record one RETENTION_PURGE
    security event with the counts (not in a dry run). If a table fails, what was already removed is still
    recorded, then the error is raised."""
    chosen = select_policies(only)
    now = now or timezone.now()
    results: list[PurgeResult] = []
    for policy in chosen:
        try:
            result = purge(policy, now=now, batch_size=batch_size, dry_run=dry_run)
        except Exception:
            logger.exception("Retention purge of %s failed.", policy.name)
            if not dry_run:
                record_purge_event(results, batch_size=batch_size, failed=policy.name)
            raise
        logger.info("Retention purge: %s", result.describe())
        results.append(result)
    if not dry_run:
        record_purge_event(results, batch_size=batch_size)
    return results


def record_purge_event(results: list[PurgeResult], *, batch_size: int, failed: str = "") -> None:
    """One security event for the whole run: the rows removed and the cutoff per table, for the auditors."""
    total = sum(result.deleted for result in results)
    reason = f"Retention purge removed {total:,} rows" + (f"; stopped at {failed} by an error" if failed else "")
    detail: dict[str, Any] = {
        "deleted": {result.name: result.deleted for result in results if not result.kept_forever},
        "cutoffs": {result.name: result.cutoff.isoformat() for result in results if result.cutoff is not None},
        "kept_forever": [result.name for result in results if result.kept_forever],
        "total": total,
        "batch_size": batch_size,
    }
    if failed:
        detail["failed"] = failed
    record_security_event(EventType.RETENTION_PURGE, success=not failed, reason=reason, **detail)
