"""The health endpoints the F5 polls and the /metrics endpoint Prometheus scrapes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.test import Client

from monitoring import health


@pytest.fixture(autouse=True)
def fresh_report() -> Iterator[None]:
    health.forget()
    yield
    health.forget()


@pytest.mark.django_db
def test_live_answers_without_touching_the_database(client: Client, django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        response = client.get("/-/health/live")
    assert response.status_code == 200 and response.json() == {"status": "live"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_reports_each_component(client: Client) -> None:
    response = client.get("/-/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready" and body["failed"] == []
    assert body["checks"]["database"]["ok"] is True
    assert "cache" in body["checks"]


@pytest.mark.django_db
def test_ready_is_503_naming_the_database_when_it_fails(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_cursor(*args: object, **kwargs: object) -> None:
        raise OperationalError("(2003, \"Can't connect to MySQL server on 'db1'\")")

    monkeypatch.setattr(health, "database_cursor", broken_cursor)
    response = client.get("/-/health/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "Can't connect" in response.json()["checks"]["database"]["detail"]


@pytest.mark.django_db
def test_ready_is_computed_at_most_once_per_second(
    client: Client, django_assert_num_queries: object, settings: object
) -> None:
    client.get("/-/health/ready")
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert client.get("/-/health/ready").status_code == 200


@pytest.mark.django_db
def test_metrics_are_served_to_the_monitoring_network_with_freshness(client: Client) -> None:
    from jobs.sync import ensure_demo_sources

    ensure_demo_sources()
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'atrium_sync_stale{source="ap-invoices"} 1.0' in text  # never synced: stale
    assert "atrium_sync_last_success_timestamp_seconds" in text


@pytest.mark.django_db
def test_metrics_refuse_other_networks_unless_the_token_is_sent(client: Client, settings: object) -> None:
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", **outside)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    settings.METRICS_TOKEN = "s3cret-scrape-token"  # type: ignore[attr-defined]
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outside).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token", **outside).status_code == 200


@pytest.mark.django_db
def test_probes_answer_on_a_section_host_and_with_an_ip_as_host(client: Client) -> None:
    """The F5 monitor sends its own Host; a section with its own host name serves /-/health/ too."""
    from tenants.models import Section

    Section.objects.create(slug="probe-host", name="Probe host", hostname="portal.example.test")
    assert client.get("/-/health/live", HTTP_HOST="portal.example.test").status_code == 200
    assert client.get("/-/health/ready", HTTP_HOST="10.1.2.3").status_code == 200


@pytest.mark.django_db
def test_metrics_count_job_runs_and_security_events_from_the_tables(client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from core.security import EventType, record_security_event
    from jobs.models import JobRun, Outcome

    start = timezone.now() - timedelta(minutes=5)
    for outcome, seconds in ((Outcome.FAILED, 3.0), (Outcome.SUCCESS, 2.5)):
        JobRun.objects.create(
            job="demo.nightly",
            outcome=outcome,
            started_at=start,
            finished_at=start + timedelta(seconds=seconds),
            duration_seconds=seconds,
            host="job1",
            pid=1,
        )
    record_security_event(EventType.SIGN_IN_FAILED, username="mallory", success=False)
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'atrium_job_runs_total{job="demo.nightly",outcome="failed"} 1.0' in text
    assert 'atrium_job_runs_total{job="demo.nightly",outcome="success"} 1.0' in text
    assert 'atrium_job_last_duration_seconds{job="demo.nightly"} 2.5' in text
    assert 'atrium_security_events_total{type="sign_in_failed"} 1.0' in text
