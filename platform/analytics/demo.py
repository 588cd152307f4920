"""Seeded demo traffic: a realistic month (or any number of days) of visits to the sections' real pages, so the
dashboards have something to show in the demo and in the documentation's screenshots.

Deterministic for a seed. Visitors are the demo users who exist in the database (they appear once they signed
in) and synthetic colleagues who have only a pseudonym, as if their visits were older than the privacy period.
Visits follow office hours with a lunch dip and quiet weekends; a visit starts on the section's home page more
often than not, then follows the section's menu (popular entries first); times on page are log-normal, and
about one view in ten has no time (its beacon never arrived). One internal menu entry per section is never
visited, so the "menu items nobody used" list has something to show.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from navigation.models import MenuItem, TargetKind
from tenants.models import Section
from tenants.permissions import can_visit_section

from . import services
from .models import PageView
from .tracking import pseudonym_for

SEED = 20260401
# Visits on an ordinary weekday per section; other sections get DEFAULT_VISITS.
DAILY_VISITS = {"finance": 48, "hr": 30, "engineering": 36}
DEFAULT_VISITS = 20
SYNTHETIC_VISITORS = 40
MEDIAN_SECONDS_ON_PAGE = 35.0
MAX_MS_ON_PAGE = 30 * 60 * 1000


@dataclass(frozen=True)
class Target:
    """A page of the portal a menu leads to."""

    path: str
    route_name: str
    section_id: int | None
    weight: float


@dataclass(frozen=True)
class Visitor:
    user_id: int | None
    pseudonym: str
    weight: float


@dataclass(frozen=True)
class SeedResult:
    section: str
    views: int
    visits: int
    visitors: int

    def describe(self) -> str:
        return f"{self.section}: {self.views:,} page views in {self.visits:,} visits by {self.visitors} people"


def section_targets(section: Section, rng: random.Random | None = None) -> list[Target]:
    """The section's home page and its menu's internal targets, weighted by position (popular entries first),
    less one entry nobody visits (chosen by `rng`; all of them without one)."""
    home = Target(section.get_absolute_url(), "tenants:section-home", section.pk, 6.0)
    items = (
        MenuItem.objects.all_sections()
        .filter(section=section)
        .select_related("page__section", "report")
        .order_by("parent_id", "order", "label")
    )
    found: list[Target] = []
    for rank, item in enumerate(items, start=1):
        href = item.href
        if item.target_kind not in (TargetKind.PAGE, TargetKind.ROUTE, TargetKind.REPORT) or not href:
            continue
        if href == home.path or any(t.path == href for t in found):
            continue
        if item.target_kind == TargetKind.PAGE:
            route, section_id = "tenants:page", section.pk
        elif item.target_kind == TargetKind.REPORT:
            route, section_id = "reports:report", None  # reports open at /reports/<id>/, a platform page
        else:
            route, section_id = item.route_name, None
        found.append(Target(href, route, section_id, 3.0 / rank**0.8))
    if rng is not None and len(found) >= 3:
        found.remove(rng.choice(found[1:]))  # the page nobody found
    return [home, *found]


def section_visitors(section: Section, rng: random.Random) -> list[Visitor]:
    """Demo users who may visit the section, and synthetic colleagues; a few people make most visits."""
    people = [
        Visitor(user.pk, pseudonym_for(user.pk), 1.0)
        for user in get_user_model().objects.filter(is_active=True).order_by("pk")
        if can_visit_section(user, section)
    ]
    for number in range(SYNTHETIC_VISITORS):
        digest = hashlib.sha256(f"atrium-demo-visitor:{section.slug}:{number}".encode()).hexdigest()[:32]
        people.append(Visitor(None, digest, 1.0))
    rng.shuffle(people)
    return [Visitor(p.user_id, p.pseudonym, 1.0 / (rank**0.9)) for rank, p in enumerate(people, start=1)]


def visits_on(day: date, base: int, rng: random.Random) -> int:
    """Fewer visits at weekends, some noise on other days."""
    factor = 0.12 if day.weekday() >= 5 else rng.uniform(0.75, 1.25)
    return max(0, round(base * factor))


def start_time(day: date, rng: random.Random) -> datetime:
    """A moment of office hours (8:00 to 18:00), with a dip over lunch, in the platform's time zone."""
    while True:
        hour = rng.gauss(12.5, 2.6)
        if 7.5 <= hour < 18.5 and not (12.0 <= hour < 13.0 and rng.random() < 0.55):
            break
    moment = datetime.combine(day, time.min) + timedelta(hours=hour)
    return timezone.make_aware(moment)


def time_on_page(rng: random.Random) -> int:
    ms = math.exp(rng.gauss(math.log(MEDIAN_SECONDS_ON_PAGE), 0.95)) * 1000
    return min(MAX_MS_ON_PAGE, max(400, round(ms)))


def visit_views(
    visitor: Visitor, targets: list[Target], started: datetime, rng: random.Random, now: datetime
) -> Iterator[PageView]:
    """One visit: the pages in order, each opened after the time spent on the previous one."""
    weights = [target.weight for target in targets]
    length = 1 + min(9, int(rng.expovariate(1 / 2.2)))
    current = targets[0] if rng.random() < 0.6 else rng.choices(targets, weights)[0]
    previous_path = ""
    moment = started
    for _step in range(length):
        if moment > now:
            return
        spent = time_on_page(rng)
        yield PageView(
            public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            user_id=visitor.user_id,
            pseudonym=visitor.pseudonym,
            section_id=current.section_id,
            route_name=current.route_name,
            path=current.path,
            referrer_path=previous_path,
            started=moment,
            response_ms=max(5, round(math.exp(rng.gauss(math.log(70), 0.5)))),
            status=200,
            duration_ms=spent if rng.random() > 0.1 else None,
        )
        previous_path = current.path
        moment += timedelta(milliseconds=spent + rng.randint(300, 4000))
        others = [t for t in targets if t.path != current.path] or targets
        current = rng.choices(others, [t.weight for t in others])[0]


def generate(section: Section, first: date, last: date, seed: int, counts: dict[str, int]) -> Iterator[PageView]:
    """The section's views from `first` to `last` (no later than now); `counts` receives views and visits."""
    rng = random.Random(f"{seed}:{section.slug}")  # noqa: S311 - demo data, not secrets
    targets = section_targets(section, rng)
    visitors = section_visitors(section, rng)
    weights = [visitor.weight for visitor in visitors]
    base = DAILY_VISITS.get(section.slug, DEFAULT_VISITS)
    now = timezone.now()
    seen: set[str] = set()
    day = first
    while day <= last:
        for _visit in range(visits_on(day, base, rng)):
            visitor = rng.choices(visitors, weights)[0]
            started = start_time(day, rng)
            if started > now:
                continue
            counts["visits"] += 1
            seen.add(visitor.pseudonym)
            for view in visit_views(visitor, targets, started, rng, now):
                counts["views"] += 1
                yield view
        day += timedelta(days=1)
    counts["visitors"] = len(seen)


def seed(days: int, *, sections: list[Section], seed: int = SEED, replace: bool = False) -> list[SeedResult]:
    """Create `days` days of visits (ending today) for `sections`, then recompute those days' aggregates.

    With `replace`, the sections' page views in those days are deleted first (so a re-run gives the same data).
    """
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    if replace:
        start, _ = services.day_bounds(first)
        services.delete_views(PageView.objects.filter(started__gte=start, section__in=sections))
        paths = {target.path for s in sections for target in section_targets(s)}
        services.delete_views(PageView.objects.filter(started__gte=start, section=None, path__in=paths))
    results = []
    for section in sections:
        counts = {"views": 0, "visits": 0, "visitors": 0}
        services.insert_in_batches(PageView, generate(section, first, today, seed, counts))
        results.append(SeedResult(section.slug, counts["views"], counts["visits"], counts["visitors"]))
    services.aggregate_range(first, today)
    return results


def seed_demo_traffic(days: int = 30) -> list[str]:
    """The demo's month of visits (`manage.py load_demo` calls this), once: nothing happens when any page view
    exists, real or seeded. Returns what it did, one line per section."""
    if PageView.objects.exists():
        return ["analytics: page views exist already, no demo traffic added"]
    sections = list(Section.objects.order_by("slug"))
    return [f"analytics: {result.describe()}" for result in seed(days, sections=sections)]
