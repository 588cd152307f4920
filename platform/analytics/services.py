"""Every write to the analytics tables outside the request path: opt-outs, merging beacon times into their views,
recomputing the daily aggregates, pseudonymising old views, and the seeding's bulk loads.

(Page views and beacon times themselves are written by analytics.buffer's bulk INSERTs.) Every bulk write commits
in batches of at most 1,000 rows, the Galera rule, each batch in its own retried transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.live import live_setting
from core.services import run_in_transaction

from .aggregation import DayTotals, ViewRow, tally_day
from .models import (
    AnalyticsOptOut,
    DailyPageStat,
    DailySectionStat,
    DailyTransition,
    PageTime,
    PageView,
)
from .tracking import forget_opt_outs

BATCH_SIZE = 1000
# A beacon whose view is still unknown after this long names a view that was never written (the page was an
# error, or its process died before flushing): it is dropped.
ORPHAN_AFTER = timedelta(days=1)


# Opt-out -----------------------------------------------------------------------------------------------------------
def is_opted_out(user: Any) -> bool:
    return bool(getattr(user, "pk", None)) and AnalyticsOptOut.objects.filter(user_id=user.pk).exists()


def set_opt_out(user: Any, *, opted_out: bool) -> None:
    """Switch the recording of `user`'s page views off (or back on). Views already recorded stay, and age out
    (pseudonymised, then purged) like everyone's."""

    def work() -> None:
        if opted_out:
            AnalyticsOptOut.objects.get_or_create(user_id=user.pk)
        else:
            AnalyticsOptOut.objects.filter(user_id=user.pk).delete()

    run_in_transaction(work)
    forget_opt_outs()


# Beacon times ------------------------------------------------------------------------------------------------------
def merge_page_times(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Write each beacon's time on page into its view (the longest time wins: a page sends one beacon when hidden
    and another when left) and delete the beacons used; returns how many views changed.

    A beacon is applied only to a view of the user who sent it (the token already proved that; this is the second
    lock). Beacons whose view is not written yet are kept for the next run, for at most ORPHAN_AFTER.
    """
    orphan_before = (now or timezone.now()) - ORPHAN_AFTER
    changed = 0
    last = 0
    while True:
        batch = list(
            PageTime.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "view_id", "user_id", "ms", "received")[:batch_size]
        )
        if not batch:
            return changed
        last = batch[-1][0]
        changed += run_in_transaction(partial(_merge_batch, batch, orphan_before))


def _merge_batch(batch: Sequence[tuple[int, uuid.UUID, int, int, datetime]], orphan_before: datetime) -> int:
    longest: dict[tuple[uuid.UUID, int], int] = {}
    for _pk, view_id, user_id, ms, _received in batch:
        key = (view_id, user_id)
        longest[key] = max(ms, longest.get(key, 0))
    views = list(
        PageView.objects.filter(public_id__in={view_id for view_id, _user in longest}).only(
            "pk", "public_id", "user_id", "duration_ms"
        )
    )
    changed = []
    for view in views:
        reported = longest.get((view.public_id, view.user_id)) if view.user_id is not None else None
        if reported is not None and (view.duration_ms is None or reported > view.duration_ms):
            view.duration_ms = reported
            changed.append(view)
    PageView.objects.bulk_update(changed, ["duration_ms"])
    found = {view.public_id for view in views}
    used = [pk for pk, view_id, _user, _ms, received in batch if view_id in found or received < orphan_before]
    PageTime.objects.filter(pk__in=used).delete()
    return len(changed)


# Daily aggregates --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DayResult:
    """What recomputing one day wrote."""

    day: date
    views: int
    pages: int
    transitions: int
    scopes: int

    @property
    def rows_written(self) -> int:
        return self.pages + self.transitions + self.scopes

    def describe(self) -> str:
        return (
            f"{self.day}: {self.views:,} views → {self.pages:,} page rows, {self.transitions:,} transitions, "
            f"{self.scopes:,} section rows"
        )


def visit_gap() -> timedelta:
    return timedelta(minutes=int(settings.ANALYTICS_VISIT_GAP_MINUTES))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day from midnight to midnight in the platform's time zone (TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def views_around(day: date) -> list[ViewRow]:
    """The day's views and those within one visit gap of it, in visitor-then-time order."""
    start, end = day_bounds(day)
    gap = visit_gap()
    rows = (
        PageView.objects.filter(started__gte=start - gap, started__lt=end + gap)
        .order_by("pseudonym", "started", "pk")
        .values_list("pseudonym", "section_id", "route_name", "path", "started", "duration_ms")
    )
    return [
        ViewRow(visitor, section_id, route_name, path, started, duration_ms, start <= started < end)
        for visitor, section_id, route_name, path, started, duration_ms in rows.iterator(chunk_size=5000)
    ]


def aggregate_day(day: date) -> DayResult:
    """Recompute one day's aggregates from its page views (idempotent: the day's rows are replaced)."""
    rows = views_around(day)
    totals = tally_day(rows, visit_gap())
    pages = _page_stats(day, totals)
    transitions = [
        DailyTransition(day=day, section_id=section_id, from_path=source, to_path=target, count=count)
        for (section_id, source, target), count in totals.transitions.items()
    ]
    scopes = _section_stats(day, totals)
    for model, objects in ((DailyPageStat, pages), (DailyTransition, transitions), (DailySectionStat, scopes)):
        replace_day(model, day, objects)
    return DayResult(day, sum(1 for row in rows if row.in_day), len(pages), len(transitions), len(scopes))


def aggregate_range(first: date, last: date) -> list[DayResult]:
    """Recompute every day from `first` to `last`, inclusive."""
    days = (last - first).days
    return [aggregate_day(first + timedelta(days=offset)) for offset in range(days + 1)]


def _page_stats(day: date, totals: DayTotals) -> list[DailyPageStat]:
    return [
        DailyPageStat(
            day=day,
            section_id=section_id,
            path=path,
            route_name=tally.route_name,
            views=tally.views,
            unique_users=len(tally.visitors),
            entries=tally.entries,
            exits=tally.exits,
            timed_views=len(tally.durations),
            total_duration_ms=sum(tally.durations),
            median_duration_ms=tally.median_ms,
            duration_histogram=tally.histogram,
        )
        for (section_id, path), tally in totals.pages.items()
    ]


def _section_stats(day: date, totals: DayTotals) -> list[DailySectionStat]:
    return [
        DailySectionStat(
            day=day,
            scope=scope,
            section_id=section_id,
            views=tally.views,
            visits=tally.entries,
            unique_users=len(tally.visitors),
            timed_views=len(tally.durations),
            total_duration_ms=sum(tally.durations),
            median_duration_ms=tally.median_ms,
            duration_histogram=tally.histogram,
        )
        for (scope, section_id), tally in totals.scopes.items()
    ]


def replace_day(model: type[models.Model], day: date, objects: Sequence[models.Model]) -> None:
    """Replace `model`'s rows of `day` with `objects`. A small day is one transaction (readers never see it half
    done); a large one deletes, then inserts, in transactions of at most BATCH_SIZE rows."""
    manager = model._default_manager
    old = list(manager.filter(day=day).order_by("pk").values_list("pk", flat=True))
    if len(old) <= BATCH_SIZE and len(objects) <= BATCH_SIZE:

        def swap() -> None:
            manager.filter(pk__in=old).delete()
            manager.bulk_create(objects)

        run_in_transaction(swap)
        return
    for start in range(0, len(old), BATCH_SIZE):
        chunk = old[start : start + BATCH_SIZE]
        run_in_transaction(partial(delete_pks, model, chunk))
    insert_in_batches(model, objects)


def delete_pks(model: type[models.Model], pks: Sequence[Any]) -> int:
    """Delete these rows (one batch: the caller keeps it at BATCH_SIZE at most); rows deleted."""
    return int(model._default_manager.filter(pk__in=pks).delete()[0])


def insert_in_batches(model: type[models.Model], objects: Iterable[models.Model]) -> int:
    """bulk_create in batches of BATCH_SIZE, each its own transaction; rows written."""
    manager = model._default_manager
    written = 0
    batch: list[models.Model] = []
    for obj in objects:
        batch.append(obj)
        if len(batch) == BATCH_SIZE:
            run_in_transaction(partial(manager.bulk_create, batch))
            written += len(batch)
            batch = []
    if batch:
        run_in_transaction(partial(manager.bulk_create, batch))
        written += len(batch)
    return written


def delete_views(views: models.QuerySet[PageView]) -> int:
    """Delete page views (the demo seeding's --replace) in transactions of at most BATCH_SIZE rows."""
    deleted = 0
    while pks := list(views.order_by("pk").values_list("pk", flat=True)[:BATCH_SIZE]):
        deleted += run_in_transaction(partial(delete_pks, PageView, pks))
    return deleted


# Pseudonymisation --------------------------------------------------------------------------------------------------
def pseudonymise_cutoff(now: datetime | None = None) -> datetime:
    days = max(0, int(live_setting("ANALYTICS_PSEUDONYMISE_DAYS")))
    return (now or timezone.now()) - timedelta(days=days)


def pseudonymise(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Forget the user of every view older than ANALYTICS_PSEUDONYMISE_DAYS; its pseudonym (a keyed hash of the
    user id, stored when the view was recorded) stays, so unique users still count. Returns views changed."""
    from .tracking import pseudonym_for

    cutoff = pseudonymise_cutoff(now)
    changed = 0
    while True:
        rows = list(
            PageView.objects.filter(started__lt=cutoff, user__isnull=False)
            .order_by("pk")
            .values_list("pk", "user_id", "pseudonym")[:batch_size]
        )
        if not rows:
            return changed

        def forget(rows: list[tuple[int, int, str]] = rows) -> int:
            for pk, user_id, pseudonym in rows:
                if not pseudonym:  # recorded by something that did not set it: set it before the user goes
                    PageView.objects.filter(pk=pk).update(pseudonym=pseudonym_for(user_id))
            return PageView.objects.filter(pk__in=[row[0] for row in rows]).update(user=None)

        changed += run_in_transaction(forget)
