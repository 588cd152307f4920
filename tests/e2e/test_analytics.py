"""In the browser: the time a person spends on a page reaches the server through the beacon (within a second of
the time measured here), and the dashboards draw the seeded demo traffic: charts, tables and the menu items
nobody used. The dashboards' screenshots for the documentation are taken here (docs/img/analytics-*.png)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from analytics import buffer, services
from analytics.models import PageTime, PageView
from tenants.models import Page, Section
from tests.e2e.conftest import assert_no_page_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"
SECONDS_ON_PAGE = 2.5


@pytest.fixture
def analytics_live(transactional_db: Any, live_server: Any, settings: Any) -> Iterator[Any]:
    from demo.services import load_demo

    settings.ANALYTICS_ENABLED = True
    settings.ANALYTICS_BUFFER_SIZE = 1000  # written only when the test flushes
    settings.ANALYTICS_FLUSH_SECONDS = 3600
    buffer.discard()
    load_demo()
    yield live_server
    buffer.discard()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "atrium-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def finance_home_duration(timeout: float = 10.0) -> int:
    """The time on page stored for frank's view of /finance/, once its beacon has reached the server (the beacon is
    sent as the page goes and buffered there: flush while waiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        buffer.flush()
        view = PageView.objects.filter(path="/finance/").first()
        if view is not None and PageTime.objects.filter(view_id=view.public_id).exists():
            services.merge_page_times()
            view.refresh_from_db()
            assert view.user.username == "frank" and view.duration_ms is not None
            return view.duration_ms
        time.sleep(0.2)
    raise AssertionError("the finance page's beacon never reached the server")


def test_leaving_a_page_records_the_time_spent_on_it(page, analytics_live):
    base = analytics_live.url
    sign_in(page, base, "frank")
    month_end = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    started = time.monotonic()
    page.goto(f"{base}/finance/")
    assert page.locator("[data-analytics-beacon]").count() == 1
    page.wait_for_timeout(SECONDS_ON_PAGE * 1000)
    spent_ms = (time.monotonic() - started) * 1000
    page.goto(f"{base}{month_end.get_absolute_url()}")  # pagehide on the finance page sends its beacon
    duration = finance_home_duration()
    assert abs(duration - spent_ms) < 1000, f"recorded {duration} ms, spent {spent_ms:.0f} ms"
    assert_no_page_problems(page)


def test_closing_the_tab_records_the_time_spent_too(page, analytics_live):
    base = analytics_live.url
    sign_in(page, base, "frank")
    started = time.monotonic()
    page.goto(f"{base}/finance/")
    page.wait_for_timeout(SECONDS_ON_PAGE * 1000)
    spent_ms = (time.monotonic() - started) * 1000
    page.close(run_before_unload=True)
    duration = finance_home_duration()
    assert abs(duration - spent_ms) < 1000, f"recorded {duration} ms, spent {spent_ms:.0f} ms"


def test_the_dashboards_draw_the_demo_traffic(page, analytics_live):
    from analytics.demo import seed

    seed(30, sections=list(Section.objects.order_by("slug")))
    finance_views = PageView.objects.filter(section__slug="finance").count()
    base = analytics_live.url
    DOCS_IMG.mkdir(parents=True, exist_ok=True)

    sign_in(page, base, "fiona")
    page.goto(f"{base}/analytics/finance/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('analytics-traffic'))")
    page.wait_for_selector("#analytics-top-pages_wrapper, .dt-container", timeout=10000)
    assert page.locator("[data-stat=views] .fs-3").inner_text().strip() == str(finance_views)
    assert page.locator("[data-dead-link]").count() >= 1
    first_row = page.locator("#analytics-top-pages tbody tr").first.locator("td").first
    assert first_row.inner_text() == "/finance/"  # the most viewed page first
    page.wait_for_timeout(800)  # the charts' animation
    page.screenshot(path=str(DOCS_IMG / "analytics-section.png"))
    assert_no_page_problems(page)

    page.goto(f"{base}/analytics/privacy/")
    page.screenshot(path=str(DOCS_IMG / "analytics-privacy.png"))

    page.context.clear_cookies()
    sign_in(page, base, "admin")
    page.goto(f"{base}/analytics/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('analytics-traffic'))")
    assert page.locator("[data-analytics-sections] tbody tr").count() == 3
    page.wait_for_timeout(800)
    page.screenshot(path=str(DOCS_IMG / "analytics-platform.png"), full_page=True)
    assert_no_page_problems(page)
