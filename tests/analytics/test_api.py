"""The analytics aggregates through the API (/api/v1/analytics/…): read-only, the generated checks every endpoint
passes, the section wall (a finance editor never sees hr's rows, a finance token only finance's), platform-wide
rows for platform readers only, and the filters."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from analytics import services
from analytics.models import DailyPageStat, DailySectionStat, DailyTransition, StatScope
from tests.api.base import ApiModelTests

from .conftest import assert_problem, view

pytestmark = pytest.mark.django_db

READ_ONLY = frozenset({"list", "retrieve"})


@pytest.fixture(autouse=True)
def aggregates(demo: None, user: Any) -> None:
    """Two days of views: frank in finance (two pages, one visit), hana in hr, and a platform page."""
    for name in ("frank", "hana"):
        user(name)
    for offset in (0, 1):
        # Mid-morning (fixed, so a run near midnight does not split a visit over two days).
        now = noon(today() - timedelta(days=offset)) - timedelta(hours=2)
        view("frank", "/finance/", now - timedelta(minutes=3), section="finance", duration_ms=4000)
        view("frank", "/finance/pages/1/", now - timedelta(minutes=2), section="finance")
        view("hana", "/hr/", now - timedelta(minutes=1), section="hr", duration_ms=2000)
        view("hana", "/reports/1/", now, duration_ms=1000)
    services.aggregate_range(today() - timedelta(days=1), today())


def today() -> date:
    return timezone.localdate()


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


class TestDailySections(ApiModelTests):
    endpoint = "/api/v1/analytics/daily-sections/"
    model = DailySectionStat
    actions = READ_ONLY

    def finance_object(self) -> Any:
        return DailySectionStat.objects.get(day=today(), section__slug="finance")

    def hr_object(self) -> Any:
        return DailySectionStat.objects.get(day=today(), section__slug="hr")


class TestDailyPages(ApiModelTests):
    endpoint = "/api/v1/analytics/daily-pages/"
    model = DailyPageStat
    actions = READ_ONLY

    def finance_object(self) -> Any:
        return DailyPageStat.objects.get(day=today(), path="/finance/")

    def hr_object(self) -> Any:
        return DailyPageStat.objects.get(day=today(), path="/hr/")


class TestDailyTransitions(ApiModelTests):
    endpoint = "/api/v1/analytics/daily-transitions/"
    model = DailyTransition
    actions = READ_ONLY

    def finance_object(self) -> Any:
        return DailyTransition.objects.get(day=today(), section__slug="finance")

    def hr_object(self) -> Any:
        return DailyTransition.objects.get(day=today(), section__slug="hr")


def rows(client: Any, endpoint: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/analytics/{endpoint}/", {"limit": 500, **params})
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


def test_a_finance_editor_reads_finance_figures_and_nothing_of_hr(token_for, bearer):
    client = bearer(token_for("fiona"))
    found = rows(client, "daily-pages")
    assert {row["path"] for row in found} == {"/finance/", "/finance/pages/1/"}
    assert rows(client, "daily-pages", section="hr") == []
    sections = rows(client, "daily-sections")
    assert {(row["scope"], row["section"]) for row in sections} == {("section", "finance")}
    hr = DailyPageStat.objects.get(day=today(), path="/hr/")
    assert_problem(client.get(f"/api/v1/analytics/daily-pages/{hr.pk}/"), 404)


def test_platform_readers_also_read_platform_pages_and_all_section_totals(token_for, bearer):
    client = bearer(token_for("audrey"))
    totals = rows(client, "daily-sections", scope="all", date_from=today().isoformat())
    assert [(row["section"], row["views"], row["unique_users"]) for row in totals] == [(None, 4, 2)]
    platform_pages = [row for row in rows(client, "daily-pages") if row["section"] is None]
    assert {row["path"] for row in platform_pages} == {"/reports/1/"}


def test_a_section_token_of_an_admin_reads_only_that_sections_rows(token_for, bearer):
    client = bearer(token_for("admin", section="finance"))
    assert {row["section"] for row in rows(client, "daily-sections")} == {"finance"}
    assert {row["section"] for row in rows(client, "daily-pages")} == {"finance"}
    total = DailySectionStat.objects.get(day=today(), scope=StatScope.ALL)
    assert_problem(client.get(f"/api/v1/analytics/daily-sections/{total.pk}/"), 404)


def test_a_section_viewer_reads_no_figures(token_for, bearer):
    assert rows(bearer(token_for("frank")), "daily-sections") == []


def test_date_filters_and_ordering(token_for, bearer):
    client = bearer(token_for("fiona"))
    yesterday = (today() - timedelta(days=1)).isoformat()
    only_yesterday = rows(client, "daily-sections", date_from=yesterday, date_to=yesterday)
    assert [row["day"] for row in only_yesterday] == [yesterday]
    newest_first = rows(client, "daily-sections")
    assert [row["day"] for row in newest_first] == [today().isoformat(), yesterday]
    by_views = rows(client, "daily-pages", ordering="-views,id", path="/finance/")
    assert len(by_views) == 2 and all(row["views"] == 1 for row in by_views)
    assert_problem(client.get("/api/v1/analytics/daily-pages/", {"date_from": "not-a-date"}), 400)
    assert_problem(client.get("/api/v1/analytics/daily-pages/", {"ordering": "pseudonym"}), 400)


def test_a_row_has_the_figures_the_dashboards_use(token_for, bearer):
    (row,) = rows(bearer(token_for("fiona")), "daily-pages", path="/finance/", date_from=today().isoformat())
    assert row["section"] == "finance" and row["views"] == 1 and row["entries"] == 1 and row["exits"] == 0
    assert row["median_duration_ms"] == 4000 and sum(row["duration_histogram"]) == 1
    (step,) = rows(bearer(token_for("fiona")), "daily-transitions", date_from=today().isoformat())
    assert (step["from_path"], step["to_path"], step["count"]) == ("/finance/", "/finance/pages/1/", 1)
