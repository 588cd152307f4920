"""The jobs app's own jobs: one `sync.<slug>` per enabled data source, the freshness check, and the runner of the
runs requested through the API.

Imported at start-up by JobsConfig.ready() (every app's jobs.py is).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from .registry import JobSpec, RetryPolicy, job, register_provider
from .runner import JobContext, run_requested
from .sync import check_freshness, sync_job_specs

logger = logging.getLogger("atrium.jobs")


def data_source_jobs() -> list[JobSpec]:
    """One job per enabled SyncSource; none while the table does not exist yet (before `migrate`)."""
    try:
        return sync_job_specs()
    except DatabaseError as exc:
        logger.warning("data source jobs not listed: %s", exc, extra={"event": "sync_sources_unreadable"})
        return []


register_provider(data_source_jobs)


@job(name="jobs.check-freshness", schedule="*/5 * * * *", timeout=120, retry=RetryPolicy(attempts=2))
def check_data_freshness(ctx: JobContext) -> None:
    """Mark synced data sources stale or fresh; alert once per stale episode."""
    report = check_freshness()
    ctx.add(read=report.checked)
    ctx.message = (
        f"{report.checked} sources checked, {len(report.stale)} stale"
        + (f" ({', '.join(report.stale)})" if report.stale else "")
        + (f", alerted: {', '.join(report.alerted)}" if report.alerted else "")
        + (f", fresh again: {', '.join(report.recovered)}" if report.recovered else "")
    )


@job(name="jobs.run-requested", schedule="* * * * *", timeout=3600, retry=RetryPolicy(attempts=1))
def run_requested_jobs(ctx: JobContext) -> None:
    """Run the jobs requested through the API (POST /api/v1/jobs/{name}/run/), each under its own lease."""
    handled = run_requested()
    ctx.add(read=len(handled), written=sum(1 for _request, run in handled if run is not None))
    ctx.message = (
        "; ".join(f"{request.job}: {request.message}" for request, _run in handled)[:500] or "no run requested"
    )
