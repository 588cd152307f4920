"""Job status pages: every job with last/next run and health; one job's runs; sections are walls."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from jobs.models import JobRun, Outcome
from jobs.registry import JobSpec, RetryPolicy, register, unregister
from jobs.runner import run_job

pytestmark = pytest.mark.django_db


def _fails(ctx: Any) -> None:
    ctx.add(read=3, rejected=1)
    raise ValueError("the AP platform said no")


def _works(ctx: Any) -> None:
    ctx.add(read=10, written=10)
    ctx.check("row count", True, expected=10, found=10)


@pytest.fixture
def finance_jobs() -> Iterator[None]:
    register(
        JobSpec("finance.flaky", _fails, "*/5 * * * *", timeout=30, retry=RetryPolicy(attempts=1), section="finance")
    )
    register(JobSpec("finance.steady", _works, "0 6 * * 1-5", timeout=30, section="finance", description="Steady"))
    yield
    unregister("finance.flaky")
    unregister("finance.steady")


def _row(html: str, job: str) -> str:
    start = html.rindex("<tr", 0, html.index(f'data-job="{job}"'))
    return html[start : html.index("</tr>", start)]


def test_admin_sees_every_job_with_its_last_and_next_run(demo: None, sign_in: Any, finance_jobs: None) -> None:
    run_job("finance.flaky")
    run_job("finance.steady")
    html = sign_in("admin").get("/jobs/").content.decode()
    assert "audit.purge-expired" in html and "accounts.sync-directory" in html
    assert "Never run" in _row(html, "audit.purge-expired")
    flaky = _row(html, "finance.flaky")
    assert "table-danger" in flaky and "Failed" in flaky and "*/5 * * * *" in flaky
    steady = _row(html, "finance.steady")
    assert "Succeeded" in steady and "table-danger" not in steady


def test_a_section_editor_sees_only_their_section_s_jobs(demo: None, sign_in: Any, finance_jobs: None) -> None:
    fiona = sign_in("fiona")
    html = fiona.get("/jobs/").content.decode()
    assert "finance.flaky" in html and "audit.purge-expired" not in html
    assert fiona.get("/jobs/finance.flaky/").status_code == 200
    assert fiona.get("/jobs/audit.purge-expired/").status_code == 404
    hana = sign_in("hana")  # edits hr
    assert "finance.flaky" not in hana.get("/jobs/").content.decode()
    assert hana.get("/jobs/finance.flaky/").status_code == 404
    assert sign_in("frank").get("/jobs/").status_code == 404  # a viewer edits nothing
    assert Client().get("/jobs/").status_code == 302
    assert sign_in("audrey").get("/jobs/finance.flaky/").status_code == 200


def test_job_page_shows_runs_errors_checks_and_the_duration_trend(demo: None, sign_in: Any, finance_jobs: None) -> None:
    run_job("finance.flaky")
    run_job("finance.steady")
    fiona = sign_in("fiona")
    flaky = fiona.get("/jobs/finance.flaky/").content.decode()
    assert "ValueError: the AP platform said no" in flaky and "Traceback" in flaky
    assert "3 / 0 / 1" in flaky  # read / written / rejected
    steady = fiona.get("/jobs/finance.steady/").content.decode()
    assert "row count" in steady and "data-atrium-chart" in steady
    run = JobRun.objects.get(job="finance.steady")
    assert run.outcome == Outcome.SUCCESS and run.checks["row count"]["ok"] is True
    assert fiona.post("/jobs/finance.steady/").status_code == 405


def test_the_jobs_menu_entry_is_for_editors_auditors_and_admins(demo: None, sign_in: Any) -> None:
    assert 'href="/jobs/"' in sign_in("fiona").get("/").content.decode()
    assert 'href="/jobs/"' in sign_in("audrey").get("/").content.decode()
    assert 'href="/jobs/"' not in sign_in("frank").get("/").content.decode()


@pytest.mark.django_db
def test_purge_keeps_each_jobs_newest_run_and_drops_older_expired_ones() -> None:
    """Old runs go with the history retention; the newest run of a job stays, so its last outcome is still known."""
    long_ago = timezone.now() - timedelta(days=4000)

    def run(job: str, days_after: int) -> JobRun:
        return JobRun.objects.create(
            job=job, started_at=long_ago + timedelta(days=days_after), outcome=Outcome.SUCCESS, host="h", pid=1
        )

    old, newest = run("demo.a", 0), run("demo.a", 1)
    only = run("demo.b", 0)
    call_command("purge_expired", "--only", "jobs:runs", stdout=io.StringIO())
    assert set(JobRun.objects.values_list("pk", flat=True)) == {newest.pk, only.pk}
    assert not JobRun.objects.filter(pk=old.pk).exists()
