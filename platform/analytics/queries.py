"""What the dashboards read: the daily aggregates over a date range, for one section or for everything.

Everything here reads the aggregate tables, whose size grows with days and pages, not with views, so a dashboard
costs the same at a thousand views as at millions. One figure comes from the raw views: unique users over the
whole range (daily unique users cannot be added up); it is a count over a covering index and is cached.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet, Sum
from django.urls import reverse

from tenants.models import Section

from .aggregation import add_histograms, histogram_median
from .models import DailyPageStat, DailySectionStat, DailyTransition, PageView, StatScope
from .services import day_bounds

UNIQUES_CACHE_SECONDS = 15 * 60


@dataclass(frozen=True)
class DateRange:
    """From `start` to `end`, both days included."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def last_days(count: int, today: date) -> DateRange:
    """The `count` days ending today (today included)."""
    return DateRange(today - timedelta(days=count - 1), today)


def format_ms(ms: int | None) -> str:
    """A time on page as people read it: "42 s", "3 min 05 s", "—" when unknown."""
    if ms is None:
        return "—"
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# Scope: one section, or the whole platform -------------------------------------------------------------------------
def _section_stats(section: Section | None, span: DateRange) -> QuerySet[DailySectionStat]:
    rows = DailySectionStat.objects.filter(day__gte=span.start, day__lte=span.end)
    if section is None:
        return rows.filter(scope=StatScope.ALL)
    return rows.filter(scope=StatScope.SECTION, section=section)


def _page_stats(section: Section | None, span: DateRange) -> QuerySet[DailyPageStat]:
    rows = DailyPageStat.objects.filter(day__gte=span.start, day__lte=span.end)
    return rows if section is None else rows.filter(section=section)


def _transitions(section: Section | None, span: DateRange) -> QuerySet[DailyTransition]:
    rows = DailyTransition.objects.filter(day__gte=span.start, day__lte=span.end)
    return rows if section is None else rows.filter(section=section)


# Headline figures --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    views: int
    visits: int
    unique_users: int
    timed_views: int
    median_ms: int | None

    @property
    def median(self) -> str:
        return format_ms(self.median_ms)

    @property
    def pages_per_visit(self) -> str:
        return f"{self.views / self.visits:.1f}" if self.visits else "—"


def range_median(days: Sequence[tuple[int | None, Sequence[int]]]) -> int | None:
    """The median time on page over several days' (median, histogram) pairs: exact when only one day has times,
    else read from the added histograms (daily medians cannot be combined)."""
    timed = [(median, histogram) for median, histogram in days if sum(histogram)]
    if len(timed) == 1:
        return timed[0][0]
    return histogram_median(add_histograms(histogram for _median, histogram in timed))


def headline(section: Section | None, span: DateRange) -> Headline:
    rows = list(
        _section_stats(section, span).values_list(
            "views", "visits", "timed_views", "median_duration_ms", "duration_histogram"
        )
    )
    return Headline(
        views=sum(row[0] for row in rows),
        visits=sum(row[1] for row in rows),
        unique_users=range_unique_users(section, span),
        timed_views=sum(row[2] for row in rows),
        median_ms=range_median([(row[3], row[4]) for row in rows]),
    )


def range_unique_users(section: Section | None, span: DateRange) -> int:
    """Distinct users over the whole range, counted from the raw views (by pseudonym, which every view keeps)."""
    key = f"analytics:uniques:{section.pk if section else 'all'}:{span.start}:{span.end}"
    cached = cache.get(key)
    if cached is not None:
        return int(cached)
    start, _ = day_bounds(span.start)
    _, end = day_bounds(span.end)
    views = PageView.objects.filter(started__gte=start, started__lt=end)
    if section is not None:
        views = views.filter(section=section)
    count = views.values("pseudonym").distinct().count()
    cache.set(key, count, UNIQUES_CACHE_SECONDS)
    return count


# Charts ------------------------------------------------------------------------------------------------------------
def daily_series(section: Section | None, span: DateRange) -> dict[str, list[Any]]:
    """Per day: views, daily unique users, median time on page (seconds); days without views are zero."""
    by_day = {
        day: (views, uniques, median)
        for day, views, uniques, median in _section_stats(section, span).values_list(
            "day", "views", "unique_users", "median_duration_ms"
        )
    }
    days = span.days
    return {
        "labels": [day.isoformat() for day in days],
        "views": [by_day.get(day, (0, 0, None))[0] for day in days],
        "uniques": [by_day.get(day, (0, 0, None))[1] for day in days],
        "median_seconds": [
            round(median / 1000, 1) if (median := by_day.get(day, (0, 0, None))[2]) is not None else None
            for day in days
        ],
    }


def traffic_chart(series: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "labels": series["labels"],
        "datasets": [
            {"label": "Views", "data": series["views"]},
            {"label": "Daily unique users", "data": series["uniques"]},
        ],
    }


def time_chart(series: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "labels": series["labels"],
        "datasets": [{"label": "Median time on page (seconds)", "data": series["median_seconds"], "spanGaps": True}],
    }


# Tables ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageRow:
    section: str
    path: str
    views: int
    entries: int
    exits: int
    median_ms: int | None

    @property
    def median(self) -> str:
        return format_ms(self.median_ms)


def _section_names(ids: Iterable[int | None]) -> dict[int | None, str]:
    wanted = {pk for pk in ids if pk is not None}
    names: dict[int | None, str] = dict(Section.objects.filter(pk__in=wanted).values_list("pk", "name"))
    names[None] = "Platform pages"
    return names


def top_pages(section: Section | None, span: DateRange, *, order: str = "views", limit: int = 100) -> list[PageRow]:
    """The most viewed pages (or those that began or ended most visits: `order` "entries" or "exits")."""
    rows = list(
        _page_stats(section, span)
        .values("section_id", "path")
        .annotate(views=Sum("views"), entries=Sum("entries"), exits=Sum("exits"))
        .filter(**{f"{order}__gt": 0})
        .order_by(f"-{order}", "path")[:limit]
    )
    days: dict[tuple[int | None, str], list[tuple[int | None, Sequence[int]]]] = defaultdict(list)
    paths = {row["path"] for row in rows}
    for section_id, path, median, histogram in (
        _page_stats(section, span)
        .filter(path__in=paths)
        .values_list("section_id", "path", "median_duration_ms", "duration_histogram")
    ):
        days[(section_id, path)].append((median, histogram))
    names = _section_names(row["section_id"] for row in rows)
    return [
        PageRow(
            section=names.get(row["section_id"], ""),
            path=row["path"],
            views=row["views"],
            entries=row["entries"],
            exits=row["exits"],
            median_ms=range_median(days[(row["section_id"], row["path"])]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PathRow:
    from_path: str
    to_path: str
    count: int


def common_paths(section: Section | None, span: DateRange, *, limit: int = 50) -> list[PathRow]:
    """The most common steps from one page to the next within a visit."""
    rows = (
        _transitions(section, span)
        .values("from_path", "to_path")
        .annotate(total=Sum("count"))
        .order_by("-total", "from_path", "to_path")[:limit]
    )
    return [PathRow(row["from_path"], row["to_path"], row["total"]) for row in rows]


@dataclass(frozen=True)
class SectionRow:
    section: Section
    views: int
    visits: int


def section_breakdown(sections: Iterable[Section], span: DateRange) -> list[SectionRow]:
    """Views and visits per section, busiest first (sections without views included, at the end)."""
    totals = {
        row["section_id"]: row
        for row in DailySectionStat.objects.filter(day__gte=span.start, day__lte=span.end, scope=StatScope.SECTION)
        .values("section_id")
        .annotate(views=Sum("views"), visits=Sum("visits"))
    }
    found = [
        SectionRow(s, totals.get(s.pk, {}).get("views") or 0, totals.get(s.pk, {}).get("visits") or 0) for s in sections
    ]
    return sorted(found, key=lambda row: (-row.views, row.section.name))


# Dead links --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadLink:
    section: str
    label: str
    path: str
    admin_url: str


def dead_links(sections: Iterable[Section], span: DateRange) -> list[DeadLink]:
    """Menu items of `sections` that point into the portal and whose page nobody opened in the range.

    Matched on the path, whatever section the view was counted under: a report linked from a section's menu
    opens at /reports/<id>/, a platform page.
    """
    from navigation.models import MenuItem, TargetKind

    items = (
        MenuItem.objects.all_sections()
        .filter(section__in=list(sections))
        .select_related("section", "page__section", "report")
        .order_by("section__name", "parent_id", "order", "label")
    )
    targets = [
        (item, item.href)
        for item in items
        if item.target_kind in (TargetKind.PAGE, TargetKind.ROUTE, TargetKind.REPORT) and item.href
    ]
    seen = set(
        DailyPageStat.objects.filter(
            day__gte=span.start, day__lte=span.end, path__in={href for _item, href in targets}, views__gt=0
        )
        .values_list("path", flat=True)
        .distinct()
    )
    return [
        DeadLink(
            section=item.section.name,
            label=item.label,
            path=href,
            admin_url=reverse("admin:navigation_menuitem_change", args=[item.pk]),
        )
        for item, href in targets
        if href not in seen
    ]
