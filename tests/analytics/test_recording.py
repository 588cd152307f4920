"""Recording page views: which requests count (signed-in GETs of HTML pages outside the excluded paths, not for
users who opted out), what is kept of them, and the buffer that keeps the writes off the request path."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import buffer, services
from analytics.models import PageView
from analytics.tracking import TOKEN_SALT, pseudonym_for
from reports.models import ReportDefinition
from tenants.models import Page

from .conftest import live

pytestmark = pytest.mark.django_db

INSERT_VIEWS = re.compile(r'INSERT INTO [`"]analytics_pageview[`"]', re.IGNORECASE)
ANALYTICS_WRITE = re.compile(r'(INSERT INTO|UPDATE|DELETE FROM) [`"]analytics_', re.IGNORECASE)


def recorded() -> list[PageView]:
    buffer.flush()
    return list(PageView.objects.order_by("started", "pk"))


def page_id(section: str, slug: str) -> int:
    return Page.objects.all_sections().get(section__slug=section, slug=slug).pk


def test_a_section_page_is_recorded_with_its_section_route_and_timing(sign_in, demo):
    client = sign_in("frank")
    response = client.get("/finance/")
    assert response.status_code == 200
    (view,) = recorded()
    frank = get_user_model().objects.get(username="frank")
    assert view.user == frank and view.pseudonym == pseudonym_for(frank.pk)
    assert view.section.slug == "finance" and view.path == "/finance/"
    assert view.route_name == "tenants:section-home"
    assert view.status == 200 and view.response_ms >= 0 and view.duration_ms is None
    assert view.started is not None


def test_the_query_string_is_dropped_and_only_portal_referrers_are_kept(sign_in, demo):
    client = sign_in("frank")
    month_end = page_id("finance", "month-end")
    client.get(f"/finance/pages/{month_end}/?q=salary+of+bob", HTTP_REFERER="http://testserver/finance/?q=secret")
    client.get("/finance/", HTTP_REFERER="https://elsewhere.example.com/finance/")
    inside, outside = recorded()
    assert inside.path == f"/finance/pages/{month_end}/" and inside.referrer_path == "/finance/"
    assert inside.route_name == "tenants:page"
    assert outside.referrer_path == ""


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/api/v1/sections/", "/-/health/live", "/static/core/css/atrium.css", "/analytics/beacon/"],
)
def test_excluded_paths_are_never_recorded(sign_in, demo, path):
    sign_in("admin").get(path)
    assert recorded() == []


def test_signed_out_visitors_are_not_recorded(client, demo):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/engineering/").status_code in (200, 302)
    assert recorded() == []


def test_only_successful_html_pages_count(sign_in, demo):
    client = sign_in("frank")
    assert client.get("/finance/pages/999999/").status_code == 404
    assert client.get("/hr/").status_code in (403, 404)
    report = ReportDefinition.objects.filter(section__slug="finance").first()
    chart = client.get(f"/reports/{report.pk}/chart/")
    assert chart["Content-Type"].startswith("application/json")
    assert client.post("/finance/").status_code in (200, 405)
    assert recorded() == []


def test_the_page_carries_a_beacon_token_for_its_own_view(sign_in, demo):
    client = sign_in("frank")
    html = client.get("/finance/").content.decode()
    token = re.search(r'data-token="([^"]+)"', html).group(1)
    claim = signing.loads(token, salt=TOKEN_SALT)
    (view,) = recorded()
    assert claim == {"v": view.public_id.hex, "u": view.user_id}
    assert 'data-url="/analytics/beacon/"' in html and "analytics/beacon.js" in html


def test_an_opted_out_user_is_not_recorded_and_gets_no_beacon(sign_in, demo, user):
    services.set_opt_out(user("frank"), opted_out=True)
    html = sign_in("frank").get("/finance/").content.decode()
    assert "data-analytics-beacon" not in html
    assert recorded() == []


def test_the_opt_out_is_ignored_while_the_live_setting_forbids_it(sign_in, demo, user):
    services.set_opt_out(user("frank"), opted_out=True)
    live(ANALYTICS_ALLOW_OPT_OUT=False)
    html = sign_in("frank").get("/finance/").content.decode()
    assert "data-analytics-beacon" in html
    assert len(recorded()) == 1


def test_nothing_is_recorded_while_analytics_are_off(sign_in, demo, settings):
    settings.ANALYTICS_ENABLED = False
    html = sign_in("frank").get("/finance/").content.decode()
    assert "data-analytics-beacon" not in html
    assert recorded() == []


def test_views_are_written_in_one_insert_when_the_buffer_is_full(sign_in, demo, settings):
    settings.ANALYTICS_BUFFER_SIZE = 4
    client = sign_in("frank")
    with CaptureQueriesContext(connection) as first_three:
        for _ in range(3):
            assert client.get("/finance/").status_code == 200
    # No write at all on the request path while the buffer fills.
    assert not [q for q in first_three.captured_queries if ANALYTICS_WRITE.search(q["sql"])]
    assert PageView.objects.count() == 0
    with CaptureQueriesContext(connection) as fourth:
        assert client.get("/finance/").status_code == 200
    inserts = [q for q in fourth.captured_queries if INSERT_VIEWS.search(q["sql"])]
    assert len(inserts) == 1
    assert PageView.objects.count() == 4
    assert len(buffer.views) == 0


def test_an_old_buffer_is_written_after_the_next_request_even_when_not_full(sign_in, demo, settings):
    client = sign_in("frank")
    client.get("/finance/")
    assert PageView.objects.count() == 0
    settings.ANALYTICS_FLUSH_SECONDS = 0
    client.get("/finance/")
    assert PageView.objects.count() == 2


def test_a_failed_flush_is_logged_and_the_page_is_still_served(sign_in, demo, settings, monkeypatch, caplog):
    settings.ANALYTICS_BUFFER_SIZE = 1

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(PageView.objects, "bulk_create", broken)
    with caplog.at_level(logging.ERROR, logger="atrium.analytics"):
        response = sign_in("frank").get("/finance/")
    assert response.status_code == 200
    assert "Could not write 1 buffered PageView rows" in caplog.text
    assert len(buffer.views) == 0  # dropped, not retried forever


def test_the_live_switch_stops_recording_at_once(sign_in, demo):
    client = sign_in("frank")
    live(ANALYTICS_RECORDING=False)
    html = client.get("/finance/").content.decode()
    assert "data-analytics-beacon" not in html
    assert client.post("/analytics/beacon/", {"token": "x", "ms": "1"}).status_code == 404
    live(ANALYTICS_RECORDING=True)
    assert "data-analytics-beacon" in client.get("/finance/").content.decode()
    assert len(recorded()) == 1
