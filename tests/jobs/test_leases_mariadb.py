"""Cluster safety of job runs on the real MariaDB, with the real `manage.py run_job` in separate processes.

- Two runners started at the same instant (cron firing on two job servers): exactly one runs the job; the other
  says who runs it and exits 0.
- A runner killed with SIGKILL in the middle of a batch: its lease stays (held by the dead pid) and blocks the next
  runner until it expires; the run after the expiry takes over, marks the killed run as lost and completes; the
  table holds whole batches only (the half-written batch was rolled back).

The subprocesses use the test database that pytest-django created (`transactional_db`, so what each side commits
is visible to the other). tests/jobs/run_test_job.py registers the test-only jobs and shortens the lease's grace
period to 1 s (ATRIUM_TEST_GRACE_SECONDS), so the takeover happens through the real expiry, a few seconds later.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import SecurityEvent
from jobs.leases import host_name
from jobs.models import JobLease, JobRun, Outcome
from tests.jobs.testjobs import (
    BATCH_EVENT_TYPE,
    BATCH_JOB,
    BATCH_SIZE,
    BATCHES,
    SLEEP_JOB,
    Runner,
    batch_username,
    current_database_url,
    start_helper,
    start_runners,
    subprocess_env,
)

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]


@pytest.fixture
def database_url(transactional_db: None, mariadb: None) -> str:
    """DATABASE_URL of the test database (test_<name>), for the runner subprocesses."""
    return current_database_url()


def test_two_runners_started_at_the_same_instant_run_the_job_exactly_once(database_url: str, tmp_path: Path) -> None:
    env = subprocess_env(database_url, ATRIUM_TEST_JOB_SECONDS="3")
    runners = start_runners(tmp_path / "go", [(f"runner {n}", ["run", SLEEP_JOB], env) for n in (1, 2)])
    for runner in runners:
        runner.finish(timeout=90)
    outputs = "\n".join(runner.output() for runner in runners)

    assert [runner.returncode for runner in runners] == [0, 0], outputs
    ran = [runner for runner in runners if f"{SLEEP_JOB}: Succeeded" in runner.stdout]
    waited = [runner for runner in runners if f"{SLEEP_JOB} is already running on {host_name()}" in runner.stdout]
    assert len(ran) == 1 and len(waited) == 1, outputs
    runs = list(JobRun.objects.filter(job=SLEEP_JOB))
    assert len(runs) == 1, outputs
    assert runs[0].outcome == Outcome.SUCCESS
    assert runs[0].pid == ran[0].process.pid  # the run on record is the process that said it ran
    assert not JobLease.objects.filter(name=SLEEP_JOB).exists()  # and it gave the lease back


def _dirty_reader() -> object:
    """A second connection that reads uncommitted rows: it sees a batch while it is being written."""
    import MySQLdb

    db = connection.settings_dict
    reader = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        password=db["PASSWORD"],
        database=db["NAME"],
    )
    reader.autocommit(True)
    reader.cursor().execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
    return reader


def _kill_in_the_middle_of_a_batch(runner: Runner) -> tuple[int, int]:
    """SIGKILL the runner once two batches are committed and the next one is partly written.

    Returns (rows committed, rows written including the open batch) as seen just before the kill.
    """
    reader = _dirty_reader()
    deadline = time.monotonic() + 60
    try:
        cursor = reader.cursor()  # type: ignore[attr-defined]
        while time.monotonic() < deadline and runner.process.poll() is None:
            run = JobRun.objects.filter(job=BATCH_JOB).first()
            if run is not None:
                username = batch_username(run.pk)
                committed = SecurityEvent.objects.filter(username=username).count()
                cursor.execute("SELECT COUNT(*) FROM accounts_securityevent WHERE username = %s", (username,))
                written = int(cursor.fetchone()[0])
                # At most half a batch in flight: the rest of it takes well over 100 ms to write.
                if committed >= 2 * BATCH_SIZE and 0 < written % BATCH_SIZE <= BATCH_SIZE // 2:
                    os.kill(runner.process.pid, signal.SIGKILL)
                    return committed, written
            time.sleep(0.005)
    finally:
        reader.close()  # type: ignore[attr-defined]
    runner.finish(timeout=10)
    raise AssertionError(f"never caught the runner in the middle of a batch:\n{runner.output()}")


def test_a_runner_killed_mid_batch_blocks_others_until_its_lease_expires_then_the_next_run_takes_over(
    database_url: str,
) -> None:
    env = subprocess_env(database_url, ATRIUM_TEST_GRACE_SECONDS="1")
    victim = start_helper("killed runner", ["run", BATCH_JOB], env)
    try:
        committed_seen, written_seen = _kill_in_the_middle_of_a_batch(victim)
    finally:
        victim.finish(timeout=10)
    assert victim.returncode == -signal.SIGKILL, victim.output()

    # The dead runner's lease is still there, under its pid, and its run still says "running".
    lease = JobLease.objects.get(name=BATCH_JOB)
    assert lease.host == host_name() and f":{victim.process.pid}:" in lease.holder
    killed = JobRun.objects.get(job=BATCH_JOB)
    assert killed.outcome == Outcome.RUNNING and killed.pid == victim.process.pid
    killed_rows = SecurityEvent.objects.filter(username=batch_username(killed.pk)).count()
    assert killed_rows % BATCH_SIZE == 0, f"a partial batch survived the kill: {killed_rows} rows"
    assert committed_seen <= killed_rows < written_seen  # the open batch was rolled back, the committed ones kept
    assert killed.rows_written <= killed_rows  # its progress, as saved after each committed batch

    # Cron fires again right away: the lease is valid, so the runner only says who holds it.
    blocked = start_helper("runner during the lease", ["run", BATCH_JOB], env).finish(timeout=60)
    assert blocked.returncode == 0, blocked.output()
    assert f"{BATCH_JOB} is already running on {host_name()}" in blocked.stdout, blocked.output()
    assert JobRun.objects.filter(job=BATCH_JOB).count() == 1

    # After the lease's real expiry (timeout 5 s + grace 1 s from when it was taken), the next run takes over.
    wait = (lease.expires_at - timezone.now()).total_seconds() + 0.2
    assert 0 < wait < 10  # the dead runner's lease ends by itself, within the job's timeout and grace
    time.sleep(wait)
    successor = start_helper("runner after the expiry", ["run", BATCH_JOB], env).finish(timeout=60)
    assert successor.returncode == 0, successor.output()
    assert f"{BATCH_JOB}: Succeeded" in successor.stdout, successor.output()

    killed.refresh_from_db()
    assert killed.outcome == Outcome.LOST
    assert killed.finished_at is not None and "without recording an outcome" in killed.message
    completed = JobRun.objects.exclude(pk=killed.pk).get(job=BATCH_JOB)
    assert completed.outcome == Outcome.SUCCESS and completed.pid == successor.process.pid
    assert completed.rows_written == BATCHES * BATCH_SIZE
    assert SecurityEvent.objects.filter(username=batch_username(completed.pk)).count() == BATCHES * BATCH_SIZE
    total = SecurityEvent.objects.filter(event_type=BATCH_EVENT_TYPE).count()
    assert total == killed_rows + BATCHES * BATCH_SIZE
    assert not JobLease.objects.filter(name=BATCH_JOB).exists()
