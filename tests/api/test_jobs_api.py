"""The jobs endpoints: registered jobs by name, their runs and run requests, seen by the pages' rules (platform
admins and auditors all, section editors their section's), and run requests that web instances record and the job
servers carry out (`jobs.run-requested`, `manage.py run_job --requested`) under the normal lease."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from jobs import leases
from jobs.models import JobRequest, JobRun, Outcome
from jobs.registry import JobSpec, register, unregister
from jobs.runner import run_job, run_requested

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

FINANCE_JOB = "tests.finance-report"
HR_JOB = "tests.hr-report"
PLATFORM_JOB = "tests.platform-cleanup"


@pytest.fixture
def jobs() -> Iterator[list[str]]:
    """Three throw-away jobs: one owned by finance, one by hr, one by the platform; each counts its runs."""
    calls: list[str] = []

    def function_for(name: str) -> Callable[[Any], None]:
        def work(ctx: Any) -> None:
            calls.append(name)
            ctx.add(read=1)

        return work

    specs = [
        JobSpec(FINANCE_JOB, function_for(FINANCE_JOB), "0 6 * * *", section="finance", description="Finance report"),
        JobSpec(HR_JOB, function_for(HR_JOB), "0 7 * * *", section="hr", description="HR report"),
        JobSpec(PLATFORM_JOB, function_for(PLATFORM_JOB), "30 2 * * *", description="Platform cleanup"),
    ]
    for spec in specs:
        register(spec)
    yield calls
    for spec in specs:
        unregister(spec.name)


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [job["name"] for job in response.json()["results"]]


def _run(job: str, outcome: str = Outcome.SUCCESS, section: str = "", minutes_ago: int = 5) -> JobRun:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return JobRun.objects.create(
        job=job,
        section_slug=section,
        started_at=started,
        finished_at=started + timedelta(seconds=3),
        duration_seconds=3.0,
        outcome=outcome,
        host="jobs-1",
        pid=1,
    )


# ---------------------------------------------------------------------------------------------------------------
# Who sees which job
# ---------------------------------------------------------------------------------------------------------------
def test_a_section_editor_sees_their_section_s_jobs_only(jobs, token_for, bearer):
    client = bearer(token_for("fiona"))
    names = _names(client.get("/api/v1/jobs/"))
    assert FINANCE_JOB in names
    assert HR_JOB not in names and PLATFORM_JOB not in names
    assert_problem(client.get(f"/api/v1/jobs/{HR_JOB}/"), 404)
    assert_problem(client.get(f"/api/v1/jobs/{PLATFORM_JOB}/"), 404)


def test_platform_admins_and_auditors_see_every_job(jobs, token_for, bearer):
    for username in ("admin", "audrey"):
        names = _names(bearer(token_for(username)).get("/api/v1/jobs/"))
        assert {FINANCE_JOB, HR_JOB, PLATFORM_JOB, "jobs.run-requested", "jobs.check-freshness"} <= set(names)


def test_a_section_restricted_admin_token_sees_that_section_s_jobs_only(jobs, token_for, bearer):
    names = _names(bearer(token_for("admin", section="hr")).get("/api/v1/jobs/"))
    assert HR_JOB in names and FINANCE_JOB not in names and PLATFORM_JOB not in names


def test_a_viewer_sees_no_job(jobs, token_for, bearer):
    assert _names(bearer(token_for("frank")).get("/api/v1/jobs/")) == []


def test_a_job_answers_schedule_owner_last_run_next_run_and_health(jobs, token_for, bearer):
    _run(FINANCE_JOB, Outcome.FAILED, "finance", minutes_ago=60)
    last = _run(FINANCE_JOB, Outcome.SUCCESS, "finance", minutes_ago=5)
    body = bearer(token_for("fiona")).get(f"/api/v1/jobs/{FINANCE_JOB}/").json()
    assert body["name"] == FINANCE_JOB
    assert body["schedule"] == "0 6 * * *"
    assert body["section"] == body["owner"] == "finance"
    assert body["last_run"]["id"] == last.pk and body["last_run"]["outcome"] == "success"
    assert body["last_success_at"] is not None and body["next_run"]
    assert body["failures_last_7_days"] == 1 and body["healthy"] is True
    assert body["freshness"] is None and body["pending_request"] is None
    assert body["runs_url"].endswith(f"/api/v1/job-runs/?job={FINANCE_JOB}")


def test_the_list_filters_by_owner(jobs, token_for, bearer):
    client = bearer(token_for("admin"))
    hr = _names(client.get("/api/v1/jobs/", {"section": "hr"}))
    assert HR_JOB in hr and FINANCE_JOB not in hr and PLATFORM_JOB not in hr
    platform = _names(client.get("/api/v1/jobs/", {"section": "platform"}))
    assert PLATFORM_JOB in platform and HR_JOB not in platform


# ---------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------
def test_runs_are_seen_by_the_same_rules_and_another_section_s_run_is_404(jobs, token_for, bearer):
    finance = _run(FINANCE_JOB, section="finance")
    hr = _run(HR_JOB, section="hr")
    platform = _run(PLATFORM_JOB)
    client = bearer(token_for("fiona"))
    listed = [run["id"] for run in client.get("/api/v1/job-runs/", {"limit": 500}).json()["results"]]
    assert finance.pk in listed and hr.pk not in listed and platform.pk not in listed
    assert_problem(client.get(f"/api/v1/job-runs/{hr.pk}/"), 404)
    assert_problem(client.get(f"/api/v1/job-runs/{platform.pk}/"), 404)
    every = [r["id"] for r in bearer(token_for("audrey")).get("/api/v1/job-runs/", {"limit": 500}).json()["results"]]
    assert {finance.pk, hr.pk, platform.pk} <= set(every)


def test_runs_filter_by_job_outcome_section_and_start(jobs, token_for, bearer):
    old = _run(FINANCE_JOB, Outcome.FAILED, "finance", minutes_ago=600)
    new = _run(FINANCE_JOB, Outcome.SUCCESS, "finance", minutes_ago=5)
    hr = _run(HR_JOB, Outcome.FAILED, "hr")
    client = bearer(token_for("admin"))

    def ids(**query: Any) -> list[int]:
        response = client.get("/api/v1/job-runs/", query)
        assert response.status_code == 200, response.content
        return [run["id"] for run in response.json()["results"]]

    assert ids(job=FINANCE_JOB) == [new.pk, old.pk]
    assert ids(outcome="failed", job=FINANCE_JOB) == [old.pk]
    assert hr.pk in ids(section="hr") and old.pk not in ids(section="hr")
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert ids(job=FINANCE_JOB, started_after=since) == [new.pk]
    assert ids(job=FINANCE_JOB, started_before=since) == [old.pk]
    assert_problem(client.get("/api/v1/job-runs/", {"outcome": "exploded"}), 400)


# ---------------------------------------------------------------------------------------------------------------
# Requesting a run
# ---------------------------------------------------------------------------------------------------------------
def test_an_editor_requests_a_run_that_a_job_server_picks_up_under_the_lease(jobs, token_for, bearer, settings):
    client = bearer(token_for("fiona", scope="write"))
    response = client.post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {"reason": "Numbers corrected (INC-1)"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["status"] == "pending" and body["requested_by"] == "fiona" and body["run"] is None
    request = JobRequest.objects.get(pk=body["id"])
    assert request.reason == "Numbers corrected (INC-1)" and request.requested_at is not None
    assert jobs == []  # the web side ran nothing

    settings.ATRIUM_ROLE = "jobs"
    handled = run_requested()
    assert [r.pk for r, _run in handled] == [request.pk]
    assert jobs == [FINANCE_JOB]
    request.refresh_from_db()
    assert request.picked_up_at is not None and request.pending is None
    assert request.run is not None and request.run.job == FINANCE_JOB and request.run.outcome == Outcome.SUCCESS
    after = client.get(body["url"]).json()
    assert after["status"] == "picked_up" and after["run"].endswith(f"/api/v1/job-runs/{request.run.pk}/")


def test_a_second_request_while_one_waits_returns_the_waiting_one(jobs, token_for, bearer):
    client = bearer(token_for("admin", scope="write"))
    first = client.post(f"/api/v1/jobs/{PLATFORM_JOB}/run/", {"reason": "first"})
    again = client.post(f"/api/v1/jobs/{PLATFORM_JOB}/run/", {"reason": "second"})
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert JobRequest.objects.filter(job=PLATFORM_JOB).count() == 1
    listed = bearer(token_for("admin")).get(f"/api/v1/jobs/{PLATFORM_JOB}/").json()
    assert listed["pending_request"] == first.json()["url"]


def test_who_may_request_a_run(jobs, token_for, bearer):
    fiona = bearer(token_for("fiona", scope="write"))
    assert_problem(fiona.post(f"/api/v1/jobs/{HR_JOB}/run/", {"reason": "x"}), 404)  # another section's job
    assert_problem(fiona.post(f"/api/v1/jobs/{PLATFORM_JOB}/run/", {"reason": "x"}), 404)
    read_token = bearer(token_for("fiona", scope="read"))
    assert_problem(read_token.post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {"reason": "x"}), 403)
    auditor = bearer(token_for("audrey", scope="write"))
    assert_problem(auditor.post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {"reason": "x"}), 403)
    restricted_admin = bearer(token_for("admin", section="finance", scope="write"))
    assert_problem(restricted_admin.post(f"/api/v1/jobs/{PLATFORM_JOB}/run/", {"reason": "x"}), 404)
    assert_problem(fiona.post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {}), 400)  # the reason is required
    assert_problem(fiona.post("/api/v1/jobs/no.such-job/run/", {"reason": "x"}), 404)
    assert not JobRequest.objects.exists()


def test_a_request_for_a_job_running_elsewhere_waits_for_the_next_pass(jobs, token_for, bearer, settings):
    bearer(token_for("admin", scope="write")).post(f"/api/v1/jobs/{PLATFORM_JOB}/run/", {"reason": "now"})
    settings.ATRIUM_ROLE = "jobs"
    lease = leases.acquire(PLATFORM_JOB, 600)  # another job server runs it
    assert isinstance(lease, leases.Lease)
    handled = run_requested()
    assert isinstance(handled[0][1], leases.Held) and jobs == []
    request = JobRequest.objects.get(job=PLATFORM_JOB)
    assert request.is_pending and request.pending == PLATFORM_JOB and "Waiting" in request.message
    leases.release(lease)
    out = io.StringIO()
    call_command("run_job", "--requested", stdout=out)
    assert jobs == [PLATFORM_JOB]
    assert f"{PLATFORM_JOB} (request {request.pk}): Run " in out.getvalue()
    assert not JobRequest.objects.get(pk=request.pk).is_pending


def test_the_run_requested_job_runs_the_requests_and_web_instances_refuse(jobs, token_for, bearer, settings):
    bearer(token_for("fiona", scope="write")).post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {"reason": "now"})
    settings.ATRIUM_ROLE = "web"
    with pytest.raises(Exception, match="ATRIUM_ROLE=web"):
        run_requested()
    settings.ATRIUM_ROLE = "jobs"
    outer = run_job("jobs.run-requested")
    assert isinstance(outer, JobRun) and outer.outcome == Outcome.SUCCESS, outer.message
    assert jobs == [FINANCE_JOB] and FINANCE_JOB in outer.message
    assert JobRun.objects.filter(job=FINANCE_JOB, outcome=Outcome.SUCCESS).count() == 1


def test_the_requests_list_shows_who_asked_when_and_why(jobs, token_for, bearer):
    bearer(token_for("fiona", scope="write")).post(f"/api/v1/jobs/{FINANCE_JOB}/run/", {"reason": "month end"})
    bearer(token_for("hana", scope="write")).post(f"/api/v1/jobs/{HR_JOB}/run/", {"reason": "payroll"})
    listed = bearer(token_for("fiona")).get("/api/v1/job-requests/", {"pending": "true"}).json()["results"]
    assert [(r["job"], r["requested_by"], r["reason"]) for r in listed] == [(FINANCE_JOB, "fiona", "month end")]
    hr = JobRequest.objects.get(job=HR_JOB)
    assert_problem(bearer(token_for("fiona")).get(f"/api/v1/job-requests/{hr.pk}/"), 404)
