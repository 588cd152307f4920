"""The arithmetic of the daily aggregates, apart from the database: visits, entry and exit pages, transitions,
unique users, medians and the time-on-page histogram.

A visit is one visitor's run of page views with no gap longer than ANALYTICS_VISIT_GAP_MINUTES; its first view is
its entry page, its last its exit page, and each view after the first is a transition from the one before. To
decide these exactly for one day, the caller passes that day's views plus those within one gap before and after
it (`ViewRow.in_day` tells them apart): whether a view has a predecessor or successor in the same visit depends
only on views within one gap of it.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .models import DURATION_BUCKETS_MS, StatScope, empty_histogram


@dataclass(frozen=True)
class ViewRow:
    """What the aggregation needs of one PageView, in visitor-then-time order."""

    visitor: str
    section_id: int | None
    route_name: str
    path: str
    started: datetime
    duration_ms: int | None
    in_day: bool = True


@dataclass
class Tally:
    """Counts for one group of views (a page, a section, everything)."""

    views: int = 0
    entries: int = 0
    exits: int = 0
    visitors: set[str] = field(default_factory=set)
    durations: list[int] = field(default_factory=list)
    route_name: str = ""

    def add(self, row: ViewRow, *, entry: bool, exit_: bool) -> None:
        self.views += 1
        self.entries += int(entry)
        self.exits += int(exit_)
        self.visitors.add(row.visitor)
        if row.duration_ms is not None:
            self.durations.append(row.duration_ms)
        self.route_name = self.route_name or row.route_name

    @property
    def median_ms(self) -> int | None:
        return round(statistics.median(self.durations)) if self.durations else None

    @property
    def histogram(self) -> list[int]:
        return histogram_of(self.durations)


@dataclass
class DayTotals:
    """Everything one day's aggregates are made of."""

    pages: dict[tuple[int | None, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    transitions: Counter[tuple[int | None, str, str]] = field(default_factory=Counter)
    scopes: dict[tuple[str, int | None], Tally] = field(default_factory=lambda: defaultdict(Tally))


def histogram_of(durations: Iterable[int]) -> list[int]:
    """Counts per bucket of DURATION_BUCKETS_MS (a duration equal to an edge falls in that edge's bucket)."""
    counts = empty_histogram()
    for ms in durations:
        counts[bisect_left(DURATION_BUCKETS_MS, ms)] += 1
    return counts


def add_histograms(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = empty_histogram()
    for histogram in histograms:
        for i, count in enumerate(list(histogram)[: len(total)]):
            total[i] += int(count)
    return total


def histogram_median(histogram: Sequence[int]) -> int | None:
    """The median read from a histogram, interpolated linearly inside its bucket (the last, open bucket answers
    its lower edge). Used for date ranges, where daily medians cannot be combined."""
    total = sum(histogram)
    if total == 0:
        return None
    half = total / 2
    seen = 0
    for i, count in enumerate(histogram):
        if count and seen + count >= half:
            low = DURATION_BUCKETS_MS[i - 1] if i > 0 else 0
            if i >= len(DURATION_BUCKETS_MS):
                return low
            high = DURATION_BUCKETS_MS[i]
            return round(low + (high - low) * (half - seen) / count)
        seen += count
    return None  # pragma: no cover - the loop always reaches half


def visit_flags(rows: Sequence[ViewRow], gap: timedelta) -> list[tuple[bool, bool]]:
    """(is the first of its visit, is the last of its visit) for each row; rows in visitor-then-time order."""
    flags = []
    for i, row in enumerate(rows):
        before = rows[i - 1] if i > 0 else None
        after = rows[i + 1] if i + 1 < len(rows) else None
        first = before is None or before.visitor != row.visitor or row.started - before.started > gap
        last = after is None or after.visitor != row.visitor or after.started - row.started > gap
        flags.append((first, last))
    return flags


def tally_day(rows: Sequence[ViewRow], gap: timedelta) -> DayTotals:
    """The day's totals from its views (and the neighbours within one gap, marked `in_day=False`)."""
    totals = DayTotals()
    for i, (row, (first, last)) in enumerate(zip(rows, visit_flags(rows, gap), strict=True)):
        if not row.in_day:
            continue
        totals.pages[(row.section_id, row.path)].add(row, entry=first, exit_=last)
        scope = (StatScope.SECTION, row.section_id) if row.section_id is not None else (StatScope.PLATFORM, None)
        totals.scopes[scope].add(row, entry=first, exit_=last)
        totals.scopes[(StatScope.ALL, None)].add(row, entry=first, exit_=last)
        if not first:
            before = rows[i - 1]
            # Counted on the day of the page reached, under the section of the page left.
            totals.transitions[(before.section_id, before.path, row.path)] += 1
    return totals
