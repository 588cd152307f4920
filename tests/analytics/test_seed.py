"""Seeding the demo's traffic: `manage.py seed_analytics` makes a deterministic, realistic set of visits to the
sections' real pages and aggregates them; `manage.py load_demo` adds a month of it once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from analytics.models import DailySectionStat, PageView, StatScope
from navigation.models import MenuItem

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_analytics", *args, stdout=out)
    return out.getvalue()


def test_seeding_creates_visits_to_the_sections_real_pages_and_aggregates_them(demo):
    output = seed("--days", "14", "--section", "finance", "--seed", "3")
    assert output.startswith("finance: ") and "page views in" in output and "Seeded" in output
    views = PageView.objects.all()
    total = views.count()
    assert total > 200
    menu_paths = {item.href for item in MenuItem.objects.all_sections().filter(section__slug="finance")}
    assert set(views.values_list("path", flat=True)) <= menu_paths | {"/finance/"}
    first = timezone.localdate() - timezone.timedelta(days=13)
    assert views.filter(started__date__lt=first).count() == 0
    aggregated = DailySectionStat.objects.filter(scope=StatScope.ALL).aggregate(total=Sum("views"))["total"]
    assert aggregated == total
    # Office hours and quiet weekends: most views on weekdays between 7:30 and 18:30.
    weekday = views.filter(started__week_day__in=[2, 3, 4, 5, 6]).count()
    assert weekday / total > 0.9
    assert views.filter(duration_ms__isnull=True).count() < total * 0.2


def test_seeding_is_deterministic_and_replace_gives_the_same_month(demo):
    seed("--days", "7", "--section", "hr", "--seed", "11", "--replace")
    first = sorted(PageView.objects.values_list("path", "started", "duration_ms"))
    seed("--days", "7", "--section", "hr", "--seed", "11", "--replace")
    assert sorted(PageView.objects.values_list("path", "started", "duration_ms")) == first


def test_seeding_refuses_a_section_that_does_not_exist(demo):
    with pytest.raises(CommandError, match="no section “nope”"):
        seed("--section", "nope")
    with pytest.raises(CommandError, match="--days"):
        seed("--days", "0")


def test_load_demo_adds_a_month_of_visits_once(db):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "analytics: finance:" in out.getvalue() and "analytics: hr:" in out.getvalue()
    count = PageView.objects.count()
    assert count > 1000
    days = set(DailySectionStat.objects.filter(scope=StatScope.ALL).values_list("day", flat=True))
    assert len(days) >= 29
    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "page views exist already" in again.getvalue()
    assert PageView.objects.count() == count
