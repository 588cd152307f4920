"""The dashboards: who sees which (another section's dashboard is a 404), what they show (figures, charts,
tables, menu items nobody used, with a link to their admin page), and the date range (bad dates are form errors)."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import services
from navigation.models import MenuItem
from tenants.models import Page, Section

from .conftest import view

pytestmark = pytest.mark.django_db


def page_path(section: str, slug: str) -> str:
    return Page.objects.all_sections().get(section__slug=section, slug=slug).get_absolute_url()


@pytest.fixture
def traffic(demo, user):
    """Today: frank on finance's home and month-end pages, hana on hr's home; aggregated."""
    for name in ("frank", "hana"):
        user(name)
    # Mid-morning today (fixed, so a run near midnight does not split the visit over two days).
    now = timezone.make_aware(datetime.combine(timezone.localdate(), time(10, 0)))
    view("frank", "/finance/", now - timedelta(minutes=20), section="finance", duration_ms=42_000)
    view("frank", page_path("finance", "month-end"), now - timedelta(minutes=19), section="finance", duration_ms=8000)
    view("frank", "/finance/", now - timedelta(minutes=10), section="finance", duration_ms=30_000)
    view("hana", "/hr/", now - timedelta(minutes=5), section="hr", duration_ms=12_000)
    services.aggregate_day(timezone.localdate())


def chart_data(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script id="{chart_id}-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def stat(html: str, name: str) -> str:
    box = re.search(rf'data-stat="{name}">(.*?)</div>\s*</div>\s*</div>', html, re.S).group(1)
    return re.search(r'<p class="fs-3[^"]*">\s*(.*?)\s*</p>', box, re.S).group(1)


def test_a_section_editor_reads_their_sections_dashboard(sign_in, traffic):
    response = sign_in("fiona").get("/analytics/finance/")
    html = response.content.decode()
    assert response.status_code == 200
    assert stat(html, "views") == "3" and stat(html, "users") == "1" and stat(html, "visits") == "1"
    assert stat(html, "median") == "30 s"
    traffic_chart = chart_data(html, "analytics-traffic")
    assert traffic_chart["labels"][-1] == timezone.localdate().isoformat()
    assert traffic_chart["datasets"][0]["data"][-1] == 3 and traffic_chart["datasets"][1]["data"][-1] == 1
    assert chart_data(html, "analytics-time")["datasets"][0]["data"][-1] == 30.0
    assert "<td>/finance/</td>" in html and "/hr/" not in html
    assert "vendor/chart.js/chart.umd.min.js" in html and "analytics/dashboard.js" in html


def test_another_sections_dashboard_is_a_404_for_an_editor(sign_in, traffic):
    client = sign_in("fiona")
    assert client.get("/analytics/hr/").status_code == 404
    assert client.get("/analytics/?section=hr").status_code == 404
    assert client.get("/analytics/no-such-section/").status_code == 404


def test_a_section_viewer_has_no_dashboards(sign_in, traffic):
    client = sign_in("frank")
    assert client.get("/analytics/").status_code == 404
    assert client.get("/analytics/finance/").status_code == 404


def test_a_section_owner_reads_their_sections_dashboard(sign_in, traffic, user):
    Section.objects.get(slug="hr").owners.add(user("frank"))
    client = sign_in("frank")
    assert client.get("/analytics/hr/").status_code == 200
    assert client.get("/analytics/finance/").status_code == 404
    index = client.get("/analytics/").content.decode()
    assert 'data-analytics-section="hr"' in index and 'data-analytics-section="finance"' not in index


def test_an_editor_sees_their_sections_listed_with_a_selector(sign_in, traffic):
    client = sign_in("fiona")
    html = client.get("/analytics/").content.decode()
    assert 'data-analytics-section="finance"' in html and 'data-analytics-section="hr"' not in html
    assert 'value="all"' not in html  # no all-sections figures for an editor
    today = timezone.localdate().isoformat()
    response = client.get("/analytics/", {"section": "finance", "date_from": today})
    assert response.status_code == 302 and response["Location"] == f"/analytics/finance/?date_from={today}"


@pytest.mark.parametrize("username", ["audrey", "admin"])
def test_auditors_and_admins_read_every_section_and_the_platform(sign_in, traffic, username):
    client = sign_in(username)
    platform = client.get("/analytics/").content.decode()
    assert stat(platform, "views") == "4" and stat(platform, "users") == "2"
    assert "data-analytics-sections" in platform and 'value="all"' in platform
    assert "<td>/hr/</td>" in platform and "<td>/finance/</td>" in platform
    for slug in ("finance", "hr", "engineering"):
        assert client.get(f"/analytics/{slug}/").status_code == 200


def test_menu_items_nobody_used_link_to_their_admin_page(sign_in, traffic):
    html = sign_in("fiona").get("/analytics/finance/").content.decode()
    budget = MenuItem.objects.all_sections().get(section__slug="finance", label="Budget rules")
    month_end = MenuItem.objects.all_sections().get(section__slug="finance", label="Month-end calendar")
    assert f'data-dead-link="{page_path("finance", "budget-rules")}"' in html
    assert reverse("admin:navigation_menuitem_change", args=[budget.pk]) in html
    assert reverse("admin:navigation_menuitem_change", args=[month_end.pk]) not in html  # it was opened
    assert "Django documentation" not in html  # external links are not judged
    # Once someone opens it, it is no longer listed.
    view("frank", page_path("finance", "budget-rules"), timezone.now(), section="finance")
    services.aggregate_day(timezone.localdate())
    html = sign_in("fiona").get("/analytics/finance/").content.decode()
    assert f'data-dead-link="{page_path("finance", "budget-rules")}"' not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2026-02-30"}, "Enter a valid date."),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "The end date is before the start date."),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "Choose at most 366 days."),
        ({"date_from": "2999-01-01", "date_to": "2999-01-02"}, "The start date is in the future."),
    ],
)
def test_bad_dates_are_form_errors_not_failures(sign_in, traffic, query, message):
    response = sign_in("fiona").get("/analytics/finance/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and "Check the dates" in html
    assert "data-analytics-dashboard" not in html


def test_the_date_range_and_its_presets(sign_in, traffic):
    client = sign_in("fiona")
    today = timezone.localdate()
    html = client.get("/analytics/finance/").content.decode()
    assert f'value="{today - timedelta(days=29)}"' in html and f'value="{today}"' in html
    for days in (7, 30, 90):
        assert f"?date_from={today - timedelta(days=days - 1)}&amp;date_to={today}" in html
    yesterday = today - timedelta(days=1)
    earlier = client.get("/analytics/finance/", {"date_from": yesterday - timedelta(days=5), "date_to": yesterday})
    assert stat(earlier.content.decode(), "views") == "0"
    assert "No page views in these days" in earlier.content.decode()
