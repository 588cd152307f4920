"""Running one job: role check, lease, run record, retries with backoff, timeout, outcome.

`run_job(name)` is what `manage.py run_job NAME` calls on a job server:

1. refuses on a web instance (`ATRIUM_ROLE=web`): web instances serve pages and run no jobs;
2. takes the job's cluster-wide lease (jobs.leases); without it, returns who holds it and does nothing else;
3. marks runs of this job still "running" as lost (their runner died: we hold the lease, so they cannot be alive);
4. records a JobRun (committed at once, so a run that is killed stays visible) and calls the job function with a
   JobContext for its row counts, checks and message;
5. retries transient failures (network errors, timeouts of the source, Galera deadlocks) up to the job's retry
   policy, with exponential backoff and equal jitter; any other exception fails the run at once;
6. stops the run at the job's timeout: a SIGALRM raises JobTimeout (a BaseException, so a job's own
   `except Exception` cannot swallow it) wherever the job is, and the run is recorded as timed out;
7. records the outcome, duration, counts and traceback, and gives the lease back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from core.services import is_retryable

from . import leases
from .models import JobRequest, JobRun, Outcome
from .registry import JobSpec, UnknownJob, get_job

logger = logging.getLogger("atrium.jobs")


class RoleError(RuntimeError):
    """This instance does not run jobs (ATRIUM_ROLE=web)."""


class JobTimeout(BaseException):
    """The job ran past its timeout; raised by SIGALRM inside the job."""


class TransientError(Exception):
    """Raise from a job for a failure worth retrying (the source is busy, a network hiccup)."""


def is_transient(exc: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - requests is a runtime dependency
        requests = None  # type: ignore[assignment]
    if isinstance(exc, TransientError):
        return True
    if requests is not None and isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    return isinstance(exc, OperationalError) and is_retryable(exc)


@dataclass
class JobContext:
    """What a job function gets: its spec, its run record, a logger, and counters it adds to."""

    spec: JobSpec
    run: JobRun
    attempt: int = 1
    log: logging.Logger = field(default_factory=lambda: logger)
    message: str = ""

    def add(self, *, read: int = 0, written: int = 0, rejected: int = 0) -> None:
        self.run.rows_read += read
        self.run.rows_written += written
        self.run.rows_rejected += rejected

    def check(self, name: str, ok: bool, **detail: Any) -> None:
        """Record a consistency check's result on the run (shown on the job's page)."""
        self.run.checks[name] = {"ok": bool(ok), **detail}

    def save_progress(self) -> None:
        """Write the counts so far to the run row (a long job calls this after each batch)."""
        self.run.save(update_fields=["rows_read", "rows_written", "rows_rejected", "checks"])


def current_role() -> str:
    return str(getattr(settings, "ATRIUM_ROLE", "all"))


def run_job(name: str) -> JobRun | leases.Held:
    """Run job `name` once, here and now (see the module docstring)."""
    if current_role() == "web":
        raise RoleError(
            f"This instance has ATRIUM_ROLE=web, so it runs no jobs. Run {name} on a job server "
            "(ATRIUM_ROLE=jobs), or set ATRIUM_ROLE=all on a development machine."
        )
    spec = get_job(name)
    lease = leases.acquire(spec.name, spec.timeout)
    if isinstance(lease, leases.Held):
        logger.info("job %s not started: %s", spec.name, lease.message(spec.name), extra={"job": spec.name})
        return lease
    try:
        mark_lost_runs(spec.name)
        run = _start_run(spec)
        _execute(spec, run)
        return run
    finally:
        reconnect_if_lost()
        leases.release(lease)


def reconnect_if_lost() -> None:
    """Check the database connection as a web request does at its start, and reconnect if it is gone.

    A job can outlive its connection (a Galera node lost behind HAProxy, a server timeout during a long fetch); the
    run's outcome and the lease's release must still reach the database, or the run stays "running" and the lease
    blocks every runner until it expires. Django's health check (CONN_HEALTH_CHECKS) pings before the next query
    once `close_if_unusable_or_obsolete` has run. Inside a transaction (a caller's, a test's) nothing is swapped.
    """
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def run_requested(limit: int | None = None) -> list[tuple[JobRequest, JobRun | leases.Held | None]]:
    """Run the jobs someone asked for through the API (JobRequest), oldest first, each under its normal lease.

    A request is claimed by a conditional update (picked_up_at still empty), so two job servers never both take
    it. A job that is already running elsewhere (its lease is held) is put back to wait for the next pass, unless a
    newer request for it is waiting already. Returns each request handled with its run (None: the job is gone).
    """
    if current_role() == "web":
        raise RoleError("This instance has ATRIUM_ROLE=web, so it runs no jobs (requested runs neither).")
    handled: list[tuple[JobRequest, JobRun | leases.Held | None]] = []
    waiting = JobRequest.objects.filter(picked_up_at__isnull=True).order_by("requested_at", "id")
    for request in list(waiting[:limit] if limit else waiting):
        if not _claim(request):
            continue  # another job server took it
        handled.append((request, _run_request(request)))
    return handled


def _claim(request: JobRequest) -> bool:
    now = timezone.now()
    with transaction.atomic():
        taken = JobRequest.objects.filter(pk=request.pk, picked_up_at__isnull=True).update(
            picked_up_at=now, pending=None
        )
    request.picked_up_at, request.pending = now, None
    return bool(taken)


def _run_request(request: JobRequest) -> JobRun | leases.Held | None:
    try:
        result = run_job(request.job)
    except UnknownJob:
        _note(request, message=f"Not run: there is no job called {request.job} any more.")
        return None
    if isinstance(result, leases.Held):
        _put_back(request, result.message(request.job))
        return result
    _note(request, run=result, message=f"Run {result.pk}: {result.get_outcome_display()}.")
    return result


def _note(request: JobRequest, **values: Any) -> None:
    with transaction.atomic():
        JobRequest.objects.filter(pk=request.pk).update(**values)
    for name, value in values.items():
        setattr(request, name, value)


def _put_back(request: JobRequest, held: str) -> None:
    """The job runs elsewhere right now: the request waits for the next pass (or gives way to a newer one)."""
    try:
        _note(request, picked_up_at=None, pending=request.job, message=f"Waiting: {held}")
    except IntegrityError:
        newer = JobRequest.objects.filter(pending=request.job).values_list("pk", flat=True).first()
        _note(request, message=f"Not run: {held} A newer request ({newer}) for it is waiting.")


def mark_lost_runs(name: str) -> int:
    """Runs of `name` still marked running belong to a runner that died (we hold the lease now)."""
    return JobRun.objects.filter(job=name, outcome=Outcome.RUNNING).update(
        outcome=Outcome.LOST,
        finished_at=timezone.now(),
        message="The runner stopped without recording an outcome (killed, or its server went down).",
    )


def _start_run(spec: JobSpec) -> JobRun:
    run = JobRun.objects.create(
        job=spec.name,
        section_slug=spec.section,
        started_at=timezone.now(),
        host=leases.host_name(),
        pid=os.getpid(),
    )
    logger.info("job %s started", spec.name, extra={"job": spec.name, "run": run.pk})
    return run


def _execute(spec: JobSpec, run: JobRun) -> None:
    context = JobContext(spec, run)
    started = time.monotonic()
    try:
        with timeout_alarm(spec.timeout):
            _attempts(spec, context)
    except JobTimeout:
        run.outcome = Outcome.TIMEOUT
        run.message = f"Stopped after its timeout of {spec.timeout} s."
        run.error = traceback.format_exc()
    reconnect_if_lost()
    run.finished_at = timezone.now()
    run.duration_seconds = round(time.monotonic() - started, 3)
    run.attempts = context.attempt
    run.message = (run.message or context.message)[:500]
    run.save()
    level = logging.INFO if run.outcome == Outcome.SUCCESS else logging.ERROR
    logger.log(
        level,
        "job %s %s",
        spec.name,
        run.outcome,
        extra={"job": spec.name, "run": run.pk, "outcome": run.outcome, "duration": run.duration_seconds},
    )


def _attempts(spec: JobSpec, context: JobContext) -> None:
    run = context.run
    while True:
        try:
            spec.function(context)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the run
            run.error = traceback.format_exc()
            if is_transient(exc) and context.attempt < spec.retry.attempts:
                delay = min(spec.retry.max_delay, spec.retry.base_delay * 2 ** (context.attempt - 1))
                wait = delay * (0.5 + _jitter() / 2)  # jitter: job servers retrying one source do not stampede
                logger.warning(
                    "job %s attempt %s failed (%s); retrying in %.1f s",
                    spec.name,
                    context.attempt,
                    exc,
                    wait,
                    extra={"job": spec.name, "run": run.pk},
                )
                time.sleep(wait)
                context.attempt += 1
                continue
            run.outcome = Outcome.FAILED
            kind = "transient, retries exhausted" if is_transient(exc) else "not retried"
            run.message = f"{type(exc).__name__}: {exc}"[:450] + f" ({kind})"
            return
        run.outcome = Outcome.SUCCESS
        run.error = ""
        return


def _jitter() -> float:
    import random

    return random.random()  # noqa: S311 - jitter, not cryptography


@contextlib.contextmanager
def timeout_alarm(seconds: int) -> Iterator[None]:
    """Raise JobTimeout in this thread after `seconds` (main thread only: that is where signals arrive)."""
    if threading.current_thread() is not threading.main_thread():
        logger.warning("job timeout not enforced outside the main thread")
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise JobTimeout(f"timeout after {seconds} s")

    # A job may run other jobs (jobs.run-requested does): the outer run's alarm is put back, less the time spent.
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:
            signal.setitimer(signal.ITIMER_REAL, max(0.001, outer_left - (time.monotonic() - started)))
