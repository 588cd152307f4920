"""The daily aggregates on a crafted set of views: visits split by a 30-minute gap (also across midnight), entry
and exit pages, page-to-page steps, unique users, medians; recomputing a day replaces it; the hourly job."""

from __future__ import annotations

import random
import statistics
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from analytics import services
from analytics.aggregation import histogram_median, histogram_of
from analytics.models import DailyPageStat, DailySectionStat, DailyTransition, PageView, StatScope
from jobs.models import JobRun
from jobs.registry import get_job
from jobs.runner import run_job

from .conftest import view

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def at(hour: int, minute: int, day: date = DAY) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, minute))


@pytest.fixture
def traffic(demo, user):
    """Frank: two visits (three pages, then one after a long pause); Fiona: finance, then hr; a colleague known
    only by pseudonym whose visits cross both midnights."""
    user("frank"), user("fiona")
    before, after = DAY - timedelta(days=1), DAY + timedelta(days=1)
    view("frank", "/finance/", at(9, 0), section="finance", duration_ms=10_000)
    view("frank", "/finance/pages/1/", at(9, 5), section="finance", duration_ms=20_000)
    view("frank", "/finance/pages/2/", at(9, 10), section="finance")
    view("frank", "/finance/", at(11, 0), section="finance", duration_ms=30_000)
    view("fiona", "/finance/", at(9, 2), section="finance", duration_ms=40_000)
    view("fiona", "/hr/", at(9, 3), section="hr", duration_ms=5_000)
    view(None, "/finance/", at(23, 50, before), section="finance", visitor="colleague")
    view(None, "/finance/pages/1/", at(0, 10), section="finance", duration_ms=60_000, visitor="colleague")
    view(None, "/finance/pages/2/", at(23, 55), section="finance", visitor="colleague")
    view(None, "/finance/", at(0, 5, after), section="finance", visitor="colleague")


def page(path: str) -> DailyPageStat:
    return DailyPageStat.objects.get(day=DAY, path=path)


def test_pages_count_views_daily_users_entries_exits_and_median_time(traffic):
    result = services.aggregate_day(DAY)
    assert result.views == 8
    home = page("/finance/")
    assert (home.views, home.unique_users, home.entries, home.exits) == (3, 2, 3, 1)
    assert home.median_duration_ms == 30_000 and home.timed_views == 3 and home.total_duration_ms == 80_000
    first = page("/finance/pages/1/")
    # The colleague's 00:10 view continues a visit begun at 23:50 the day before: not an entry.
    assert (first.views, first.unique_users, first.entries, first.exits) == (2, 2, 0, 1)
    assert first.median_duration_ms == 40_000
    second = page("/finance/pages/2/")
    # 23:55 starts a visit that goes on after midnight: an entry, not an exit.
    assert (second.views, second.entries, second.exits) == (2, 1, 1)
    assert second.median_duration_ms is None and second.timed_views == 0
    hr = page("/hr/")
    assert hr.section.slug == "hr" and (hr.views, hr.entries, hr.exits) == (1, 0, 1)


def test_transitions_are_consecutive_views_of_a_visit_under_the_section_left(traffic):
    services.aggregate_day(DAY)
    steps = {(t.section.slug, t.from_path, t.to_path): t.count for t in DailyTransition.objects.filter(day=DAY)}
    assert steps == {
        ("finance", "/finance/", "/finance/pages/1/"): 2,  # frank, and the colleague across midnight
        ("finance", "/finance/pages/1/", "/finance/pages/2/"): 1,
        ("finance", "/finance/", "/hr/"): 1,
    }


def test_section_and_platform_totals_count_each_person_once(traffic):
    services.aggregate_day(DAY)
    finance = DailySectionStat.objects.get(day=DAY, scope=StatScope.SECTION, section__slug="finance")
    assert (finance.views, finance.visits, finance.unique_users) == (7, 4, 3)
    assert finance.median_duration_ms == 30_000
    everything = DailySectionStat.objects.get(day=DAY, scope=StatScope.ALL)
    assert (everything.views, everything.visits, everything.unique_users) == (8, 4, 3)
    assert everything.median_duration_ms == 25_000
    assert sum(everything.duration_histogram) == everything.timed_views == 6


def test_pages_outside_any_section_have_their_own_total(demo, user):
    user("frank")
    view("frank", "/reports/1/", at(10, 0))
    services.aggregate_day(DAY)
    platform = DailySectionStat.objects.get(day=DAY, scope=StatScope.PLATFORM)
    assert platform.section is None and platform.views == 1
    assert DailyPageStat.objects.get(day=DAY, path="/reports/1/").section is None


def test_recomputing_a_day_replaces_it(traffic):
    services.aggregate_day(DAY)
    counts = (DailyPageStat.objects.count(), DailyTransition.objects.count(), DailySectionStat.objects.count())
    PageView.objects.filter(path="/hr/").delete()
    services.aggregate_day(DAY)
    services.aggregate_day(DAY)
    assert DailyPageStat.objects.count() == counts[0] - 1
    assert DailyTransition.objects.count() == counts[1] - 1
    assert not DailySectionStat.objects.filter(section__slug="hr").exists()
    assert DailyPageStat.objects.get(day=DAY, path="/finance/").views == 3


def test_a_large_day_is_replaced_in_batches(traffic, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    services.aggregate_day(DAY)
    services.aggregate_day(DAY)
    assert DailyPageStat.objects.filter(day=DAY).count() == 4
    assert DailyTransition.objects.filter(day=DAY).count() == 3


def test_a_range_median_from_histograms_is_close_to_the_exact_one():
    rng = random.Random(7)
    durations = [round(rng.lognormvariate(10.4, 0.9)) for _ in range(5000)]
    exact = statistics.median(durations)
    approximate = histogram_median(histogram_of(durations))
    assert abs(approximate - exact) / exact < 0.1
    assert histogram_median(histogram_of([1500, 1500, 1500])) == 1500
    assert histogram_median(histogram_of([])) is None


def test_the_hourly_job_merges_times_aggregates_and_pseudonymises(demo, user):
    spec = get_job("analytics.aggregate")
    assert spec.schedule == "7 * * * *"
    user("frank")
    now = timezone.now()
    view("frank", "/finance/", now - timedelta(minutes=5), section="finance")
    view("frank", "/finance/", now - timedelta(days=90), section="finance")
    run = run_job("analytics.aggregate")
    assert isinstance(run, JobRun) and run.outcome == "success", getattr(run, "error", run)
    today = timezone.localdate()
    assert DailySectionStat.objects.filter(day=today, scope=StatScope.ALL, views=1).exists()
    assert PageView.objects.filter(user__isnull=True).count() == 1
    assert "1 views pseudonymised" in run.message
