"""Per-section request metrics on /metrics: counts by section, method and status class, latency per section, and
django-prometheus' own request metrics alongside."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

REQUESTS = "atrium_http_requests_total"


def test_requests_are_counted_by_section_method_and_status_class(demo: Any, sign_in: Any, scrape: Any) -> None:
    fiona = sign_in("fiona")
    before = scrape()
    assert fiona.get("/finance/").status_code == 200
    assert fiona.get("/finance/no-such-page/").status_code == 404
    assert fiona.get("/").status_code in (200, 302)
    after = scrape()

    def delta(**labels: str) -> float:
        return after.total(REQUESTS, **labels) - before.total(REQUESTS, **labels)

    assert delta(section="finance", method="GET", status_class="2xx") == 1
    assert delta(section="finance", method="GET", status_class="4xx") == 1
    assert delta(section="platform", method="GET") == 1
    duration = "atrium_http_request_duration_seconds_count"
    assert after.total(duration, section="finance") - before.total(duration, section="finance") == 2
    assert after.value("atrium_http_request_duration_seconds_bucket", section="finance", le="+Inf") is not None


def test_server_errors_are_counted_as_5xx_of_their_section(demo: Any, settings: Any, scrape: Any) -> None:
    settings.ROOT_URLCONF = "tests.monitoring.urls_for_tests"
    client = Client(raise_request_exception=False)
    before = scrape().total(REQUESTS, section="finance", status_class="5xx")
    assert client.get("/finance/-fail/").status_code == 500
    assert scrape().total(REQUESTS, section="finance", status_class="5xx") == before + 1


def test_labels_are_bounded_never_a_raw_path(db: Any, scrape: Any) -> None:
    client = Client()
    for path in ("/no-such-section/x/1", "/no-such-section/x/2", "/a%20b/../c", "/accounts/login/?next=/x"):
        client.get(path)
    client.generic("BREW", "/")  # an unusual method is "other"
    sections = {s.labels["section"] for s in scrape().samples(REQUESTS)}
    methods = {s.labels["method"] for s in scrape().samples(REQUESTS)}
    assert not any("/" in section for section in sections), sections
    assert "no-such-section" not in sections and "platform" in sections
    assert "BREW" not in methods and "other" in methods


def test_probes_are_not_counted_as_requests(db: Any, scrape: Any) -> None:
    before = scrape().total(REQUESTS)
    Client().get("/-/health/live")
    Client().get("/-/health/ready")
    assert scrape().total(REQUESTS) == before  # the scrapes themselves are probes too


def test_django_prometheus_metrics_are_on_the_same_page(db: Any, scrape: Any) -> None:
    Client().get("/accounts/login/")
    result = scrape()
    assert result.total("django_http_requests_before_middlewares_total") >= 1
    assert result.total("django_http_responses_total_by_status_view_method_total", view="accounts:login") >= 1
    assert result.samples("django_http_requests_latency_including_middlewares_seconds_bucket")
    assert result.samples("process_resident_memory_bytes") or result.samples("python_info")
