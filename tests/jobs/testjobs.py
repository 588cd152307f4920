"""Test-only jobs, and the helpers that run them with the real `manage.py run_job` in separate processes.

The jobs are not registered on import: `register_test_jobs()` does it, in the helper script
(tests/jobs/run_test_job.py) that the subprocess tests start, so the test process's own registry (and what
`list_jobs` or the job pages show there) stays as the platform has it.

- `tests.sleep`: sleeps `ATRIUM_TEST_JOB_SECONDS` seconds (default 3) and succeeds: long enough for a second
  runner to find the lease taken.
- `tests.batches`: writes BATCHES batches of BATCH_SIZE rows into a real table (`accounts.SecurityEvent`, event type
  "test_batch", username "job-run-<run id>"), each batch in its own `run_in_transaction`, inserting a few rows at a
  time with pauses in between so that a batch's transaction is open most of the run (a SIGKILL then lands inside
  one). Its timeout is short (BATCH_TIMEOUT s) so that, with the lease grace shortened by the helper script, a
  killed run's lease expires within seconds.

`start_runners()` starts several helper processes at once and releases them together through a "go" file, so
that they race for the lease at the same moment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.registry import JobSpec, RetryPolicy, register, unregister

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).resolve().with_name("run_test_job.py")

SLEEP_JOB = "tests.sleep"
BATCH_JOB = "tests.batches"

BATCH_EVENT_TYPE = "test_batch"
BATCH_SIZE = 20
BATCHES = 6
ROWS_PER_INSERT = 4  # a batch is 5 inserts of 4 rows, with a pause after each: its transaction stays open
PAUSE_SECONDS = 0.04
BATCH_TIMEOUT = 5


def batch_username(run_id: int) -> str:
    """The marker on every row that run `run_id` of tests.batches wrote."""
    return f"job-run-{run_id}"


def sleep_job(ctx: Any) -> None:
    """Sleep a few seconds (ATRIUM_TEST_JOB_SECONDS), then succeed."""
    seconds = float(os.environ.get("ATRIUM_TEST_JOB_SECONDS", "3"))
    time.sleep(seconds)
    ctx.add(read=1)
    ctx.message = f"slept {seconds:g} s in pid {os.getpid()}"


def batch_job(ctx: Any) -> None:
    """Write BATCHES batches of BATCH_SIZE rows, each batch committed in its own transaction."""
    from accounts.models import SecurityEvent
    from core.services import run_in_transaction

    username = batch_username(ctx.run.pk)

    def write_batch(batch: int) -> None:
        for first in range(0, BATCH_SIZE, ROWS_PER_INSERT):
            SecurityEvent.objects.bulk_create(
                SecurityEvent(
                    event_type=BATCH_EVENT_TYPE,
                    username=username,
                    reason=f"batch {batch} row {first + offset}",
                    method="test",
                )
                for offset in range(ROWS_PER_INSERT)
            )
            time.sleep(PAUSE_SECONDS)

    for batch in range(BATCHES):
        run_in_transaction(lambda batch=batch: write_batch(batch))
        ctx.add(written=BATCH_SIZE)
        ctx.save_progress()
    ctx.message = f"{BATCHES * BATCH_SIZE} rows in {BATCHES} batches"


SPECS = (
    JobSpec(SLEEP_JOB, sleep_job, "0 4 * * *", timeout=60, retry=RetryPolicy(attempts=1), description="Sleeps"),
    JobSpec(
        BATCH_JOB,
        batch_job,
        "30 4 * * *",
        timeout=BATCH_TIMEOUT,
        retry=RetryPolicy(attempts=1),
        description="Writes rows in batches",
    ),
)


def register_test_jobs() -> None:
    for spec in SPECS:
        register(spec)


def unregister_test_jobs() -> None:
    for spec in SPECS:
        unregister(spec.name)


# -----------------------------------------------------------------------------------------------------------------
# Running the helper script in subprocesses
# -----------------------------------------------------------------------------------------------------------------
def current_database_url() -> str:
    """DATABASE_URL of the database Django uses now: in a test, the test database (test_<name>) on MariaDB."""
    from urllib.parse import quote

    from django.db import connection

    db = connection.settings_dict
    user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
    return f"mysql://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


def subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a job runner on a job server: this one's, pointed at `database_url`, role jobs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("REDIS_URL", None)  # runners need no cache; sharing the test's Redis could only blur what is tested
    env.update(
        DATABASE_URL=database_url,
        ATRIUM_ROLE="jobs",
        ATRIUM_READ_DOT_ENV="false",
        ATRIUM_ENV=env.get("ATRIUM_ENV", "test"),
        DJANGO_SETTINGS_MODULE="atrium.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@dataclass
class Runner:
    """One helper process; `finish()` waits for it and keeps its exit status and output."""

    label: str
    process: subprocess.Popen
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""

    def wait_ready(self, deadline: float) -> None:
        """Wait for the helper's "ready" line (Django set up, database connected, waiting for the go file)."""
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if line.strip() == "ready":
                return
            self.stdout += line
            if not line or time.monotonic() > deadline:
                self.finish(timeout=5)
                raise AssertionError(f"{self.label} never became ready:\n{self.output()}")

    def finish(self, timeout: float = 60) -> Runner:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        self.returncode = self.process.returncode
        self.stdout += out or ""
        self.stderr += err or ""
        return self

    def output(self) -> str:
        return f"[{self.label} exit {self.returncode}]\n{self.stdout}\n{self.stderr}"

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


def start_helper(label: str, args: list[str], env: dict[str, str]) -> Runner:
    process = subprocess.Popen(
        [sys.executable, str(HELPER), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    return Runner(label, process)


def start_runners(
    go_file: Path, runs: list[tuple[str, list[str], dict[str, str]]], *, ready_timeout: float = 60
) -> list[Runner]:
    """Start one helper per (label, args, env), wait until all are ready, then release them at the same instant."""
    runners = []
    try:
        for label, args, env in runs:
            runners.append(start_helper(label, args, {**env, "ATRIUM_TEST_GO_FILE": str(go_file)}))
        deadline = time.monotonic() + ready_timeout
        for runner in runners:
            runner.wait_ready(deadline)
    except BaseException:
        for runner in runners:
            if runner.process.poll() is None:
                runner.process.kill()
            runner.finish(timeout=5)
        raise
    # The helpers poll for this file and start at the wall-clock time it holds (same machine, same clock).
    release_at = time.time() + 0.3
    temporary = go_file.with_suffix(".tmp")
    temporary.write_text(f"{release_at:.6f}", encoding="utf-8")
    temporary.rename(go_file)
    return runners
