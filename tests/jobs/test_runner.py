"""The job runner in one process: role check, unknown jobs, retries and backoff, failures, timeouts, lost runs,
leases (held, expired, released) and `list_jobs`, as an operator sees them through `manage.py run_job`.

The cross-process and cross-node behaviour of the same code is in test_leases_mariadb.py and tests/ha/.
"""

from __future__ import annotations

import contextlib
import io
import signal
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from jobs import leases, runner
from jobs.leases import GRACE_SECONDS, Held, Lease, acquire, host_name, release
from jobs.models import JobLease, JobRun, Outcome
from jobs.registry import JobSpec, RetryPolicy, register, unregister
from jobs.runner import TransientError, mark_lost_runs, run_job

pytestmark = pytest.mark.django_db

JOB = "tests.unit-job"


@pytest.fixture
def make_job() -> Iterator[Callable[..., JobSpec]]:
    """Register a throw-away job called JOB (or another name); forgotten after the test."""
    names: list[str] = []

    def _make(function: Callable[[Any], Any], *, name: str = JOB, **options: Any) -> JobSpec:
        spec = JobSpec(name, function, options.pop("schedule", "*/10 * * * *"), **options)
        register(spec)
        names.append(name)
        return spec

    yield _make
    for name in names:
        unregister(name)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The runner's backoff sleeps, recorded instead of slept (only the runner's own `time` is replaced)."""
    recorded: list[float] = []
    monkeypatch.setattr(runner, "time", SimpleNamespace(sleep=recorded.append, monotonic=time.monotonic))
    return recorded


def _run_command(name: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("run_job", name, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# -----------------------------------------------------------------------------------------------------------------
# Refusals: web instances, unknown jobs
# -----------------------------------------------------------------------------------------------------------------
def test_a_web_instance_refuses_to_run_jobs_with_exit_status_2(settings: Any, make_job: Any) -> None:
    calls: list[int] = []
    make_job(lambda ctx: calls.append(1))
    settings.ATRIUM_ROLE = "web"
    with pytest.raises(CommandError) as refused:
        _run_command(JOB)
    assert refused.value.returncode == 2
    assert "ATRIUM_ROLE=web" in str(refused.value) and "job server" in str(refused.value)
    assert calls == []
    assert not JobRun.objects.exists() and not JobLease.objects.exists()


def test_a_job_server_runs_jobs(settings: Any, make_job: Any) -> None:
    make_job(lambda ctx: ctx.add(read=2, written=1))
    settings.ATRIUM_ROLE = "jobs"
    out, _ = _run_command(JOB)
    assert f"{JOB}: Succeeded" in out and "read 2, written 1, rejected 0" in out


def test_an_unknown_job_is_a_usage_error_that_lists_the_jobs() -> None:
    with pytest.raises(CommandError) as unknown:
        _run_command("audit.purge-everything")
    assert unknown.value.returncode == 2
    message = str(unknown.value)
    assert "audit.purge-everything" in message
    assert "audit.purge-expired" in message and "accounts.sync-directory" in message


# -----------------------------------------------------------------------------------------------------------------
# Retries, failures, timeouts
# -----------------------------------------------------------------------------------------------------------------
def test_transient_failures_are_retried_with_growing_backoff_until_the_job_succeeds(
    make_job: Any, waits: list[float]
) -> None:
    attempts: list[int] = []

    def flaky(ctx: Any) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise TransientError("the AP platform is busy")
        ctx.add(read=5)

    make_job(flaky, retry=RetryPolicy(attempts=3, base_delay=2, max_delay=60))
    run = run_job(JOB)
    assert isinstance(run, JobRun)
    assert attempts == [1, 2, 3]
    assert run.outcome == Outcome.SUCCESS and run.attempts == 3 and run.rows_read == 5
    assert run.error == ""  # the earlier attempts' tracebacks do not make a success look failed
    # base 2 s doubling, with jitter between half and all of it: 1 to 2 s, then 2 to 4 s.
    assert len(waits) == 2
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 4 and waits[1] > waits[0]


def test_backoff_is_capped_and_a_run_fails_once_its_retries_are_exhausted(make_job: Any, waits: list[float]) -> None:
    def down(ctx: Any) -> None:
        raise TransientError("connection refused")

    make_job(down, retry=RetryPolicy(attempts=5, base_delay=2, max_delay=5))
    run = run_job(JOB)
    assert isinstance(run, JobRun)
    assert run.outcome == Outcome.FAILED and run.attempts == 5
    assert run.message == "TransientError: connection refused (transient, retries exhausted)"
    assert "TransientError: connection refused" in run.error
    assert len(waits) == 4 and max(waits) <= 5  # 2, 4, then capped at 5 (each less its jitter)
    assert waits[1] > waits[0]


def test_a_galera_deadlock_counts_as_transient(make_job: Any, waits: list[float]) -> None:
    def conflicted(ctx: Any) -> None:
        if ctx.attempt == 1:
            raise OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")

    make_job(conflicted, retry=RetryPolicy(attempts=2, base_delay=1))
    run = run_job(JOB)
    assert isinstance(run, JobRun)
    assert run.outcome == Outcome.SUCCESS and run.attempts == 2 and len(waits) == 1


def test_any_other_failure_is_not_retried_and_its_traceback_is_recorded(make_job: Any, waits: list[float]) -> None:
    attempts: list[int] = []

    def broken(ctx: Any) -> None:
        attempts.append(ctx.attempt)
        ctx.add(read=3, rejected=1)
        raise ValueError("row 17 has no account number")

    make_job(broken, retry=RetryPolicy(attempts=5))
    with pytest.raises(SystemExit) as exited:
        _run_command(JOB)
    assert exited.value.code == 1  # cron's MAILTO and monitoring see a failed run
    assert attempts == [1] and waits == []
    run = JobRun.objects.get(job=JOB)
    assert run.outcome == Outcome.FAILED and run.attempts == 1
    assert run.message == "ValueError: row 17 has no account number (not retried)"
    assert run.error.startswith("Traceback (most recent call last):")
    assert "in broken" in run.error and "ValueError: row 17 has no account number" in run.error
    assert (run.rows_read, run.rows_rejected) == (3, 1)
    assert run.finished_at is not None and run.duration_seconds is not None
    assert not JobLease.objects.exists()


def test_a_job_running_past_its_timeout_is_stopped_and_the_lease_given_back(make_job: Any) -> None:
    def hangs(ctx: Any) -> None:
        with contextlib.suppress(Exception):  # a job's own catch-all cannot swallow the timeout
            time.sleep(10)
        ctx.message = "finished"

    make_job(hangs, timeout=1)
    handler_before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        _run_command(JOB)
    elapsed = time.monotonic() - started
    assert exited.value.code == 1
    assert elapsed < 5, f"the runner returned only after {elapsed:.1f} s"
    run = JobRun.objects.get(job=JOB)
    assert run.outcome == Outcome.TIMEOUT
    assert run.message == "Stopped after its timeout of 1 s."
    assert "JobTimeout" in run.error
    assert 0.9 <= run.duration_seconds < 5  # type: ignore[operator]
    assert not JobLease.objects.exists()
    assert signal.getsignal(signal.SIGALRM) == handler_before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left to go off later


# -----------------------------------------------------------------------------------------------------------------
# Lost runs and leases
# -----------------------------------------------------------------------------------------------------------------
def _running(job: str, minutes_ago: int = 30) -> JobRun:
    return JobRun.objects.create(
        job=job, started_at=timezone.now() - timedelta(minutes=minutes_ago), host="jobs-2", pid=4242
    )


def test_runs_left_running_by_a_dead_runner_are_marked_lost_by_the_next_run(make_job: Any) -> None:
    make_job(lambda ctx: None)
    dead = _running(JOB)
    other_job = _running("audit.purge-expired")
    run = run_job(JOB)
    assert isinstance(run, JobRun) and run.outcome == Outcome.SUCCESS
    dead.refresh_from_db()
    assert dead.outcome == Outcome.LOST and dead.finished_at is not None
    assert "stopped without recording an outcome" in dead.message
    other_job.refresh_from_db()
    assert other_job.outcome == Outcome.RUNNING  # another job's run is that job's business
    assert mark_lost_runs(JOB) == 0  # nothing left to mark


def test_while_another_server_holds_the_lease_the_job_does_not_run(make_job: Any) -> None:
    calls: list[int] = []
    make_job(lambda ctx: calls.append(1))
    until = timezone.now() + timedelta(minutes=5)
    JobLease.objects.create(
        name=JOB, holder="jobs-2:777:abc", host="jobs-2", acquired_at=timezone.now(), expires_at=until
    )
    held = run_job(JOB)
    assert isinstance(held, Held) and held.host == "jobs-2" and held.holder == "jobs-2:777:abc"
    out, err = _run_command(JOB)  # exit status 0: cron simply fired on two servers
    assert out.startswith(f"{JOB} is already running on jobs-2 (lease held until ") and err == ""
    assert calls == [] and not JobRun.objects.exists()
    assert JobLease.objects.get(name=JOB).holder == "jobs-2:777:abc"


def test_an_expired_lease_is_taken_over_and_the_job_runs(make_job: Any) -> None:
    calls: list[int] = []
    make_job(lambda ctx: calls.append(1), timeout=120)
    JobLease.objects.create(
        name=JOB,
        holder="jobs-2:777:abc",
        host="jobs-2",
        acquired_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    lease = acquire(JOB, 120)
    assert isinstance(lease, Lease) and lease.holder != "jobs-2:777:abc"
    row = JobLease.objects.get(name=JOB)
    assert row.holder == lease.holder and row.host == host_name()
    expected = timezone.now() + timedelta(seconds=120 + GRACE_SECONDS)
    assert abs((row.expires_at - expected).total_seconds()) < 5
    release(lease)

    JobLease.objects.create(
        name=JOB,
        holder="jobs-3:778:def",
        host="jobs-3",
        acquired_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    out, _ = _run_command(JOB)
    assert f"{JOB}: Succeeded" in out and calls == [1]
    assert not JobLease.objects.exists()  # taken over, then given back


def test_release_gives_back_only_the_caller_s_own_lease() -> None:
    first = acquire(JOB, 60)
    assert isinstance(first, Lease)
    assert isinstance(acquire(JOB, 60), Held)  # still valid: a second runner is refused
    JobLease.objects.filter(name=JOB).update(expires_at=timezone.now() - timedelta(seconds=1))
    second = acquire(JOB, 60)  # the first holder hung past its lease: taken over
    assert isinstance(second, Lease) and second.holder != first.holder
    release(first)  # the late first holder finishes: it must not free the lease the second one holds now
    assert JobLease.objects.get(name=JOB).holder == second.holder
    release(second)
    assert not JobLease.objects.exists()


def test_holders_name_the_host_and_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leases.socket, "gethostname", lambda: "jobs-1.example.com")
    lease = acquire(JOB, 60)
    assert isinstance(lease, Lease)
    host, pid, token = lease.holder.split(":")
    assert host == "jobs-1.example.com" and pid.isdigit() and token
    assert JobLease.objects.get(name=JOB).host == "jobs-1.example.com"


# -----------------------------------------------------------------------------------------------------------------
# list_jobs
# -----------------------------------------------------------------------------------------------------------------
def test_list_jobs_shows_every_job_with_schedule_owner_timeout_next_and_last_run(make_job: Any) -> None:
    make_job(lambda ctx: None, schedule="0 6 * * 1-5", timeout=90, section="finance")
    out = io.StringIO()
    call_command("list_jobs", stdout=out)
    before = out.getvalue().splitlines()
    assert before[0].split() == ["JOB", "SCHEDULE", "OWNER", "TIMEOUT", "NEXT", "RUN", "LAST", "RUN"]
    rows = {line.split()[0]: line for line in before[1:]}
    assert {"audit.purge-expired", "accounts.sync-directory", JOB} <= set(rows)
    purge = rows["audit.purge-expired"]
    assert "15 3 * * *" in purge and " platform " in purge and "10800s" in purge and purge.endswith("never")
    mine = rows[JOB]
    assert "0 6 * * 1-5" in mine and " finance " in mine and "90s" in mine and mine.endswith("never")

    run_job(JOB)
    out = io.StringIO()
    call_command("list_jobs", stdout=out)
    mine = next(line for line in out.getvalue().splitlines() if line.startswith(JOB))
    assert mine.endswith(" success")
    assert f"{timezone.localtime():%Y-%m-%d}" in mine
