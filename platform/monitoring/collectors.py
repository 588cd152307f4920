"""Prometheus metrics read from the tables at scrape time: job runs and security events.

Jobs run in short-lived processes on the job servers and security events are written by every web worker, so no
single process's in-memory counters could tell the whole story. The tables can: each scrape counts the rows
grouped by label, so every instance reports the same totals. Purges make a total drop, which Prometheus'
`increase()` and `rate()` read as a counter reset, as they should.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Max
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class JobRunCollector(Collector):
    """atrium_job_runs_total{job,outcome}, atrium_job_last_success_timestamp_seconds{job},
    atrium_job_last_duration_seconds{job}."""

    def collect(self) -> Iterator[Any]:
        from jobs.models import JobRun, Outcome

        runs = CounterMetricFamily(
            "atrium_job_runs", "Job runs recorded, by job and outcome.", labels=["job", "outcome"]
        )
        for row in JobRun.objects.values("job", "outcome").annotate(n=Count("id")).order_by():
            runs.add_metric([row["job"], row["outcome"]], row["n"])
        yield runs

        last_success = GaugeMetricFamily(
            "atrium_job_last_success_timestamp_seconds", "Unix time a job last finished successfully.", labels=["job"]
        )
        successes = (
            JobRun.objects.filter(outcome=Outcome.SUCCESS).values("job").annotate(at=Max("finished_at")).order_by()
        )
        for row in successes:
            if row["at"] is not None:
                last_success.add_metric([row["job"]], row["at"].timestamp())
        yield last_success

        duration = GaugeMetricFamily(
            "atrium_job_last_duration_seconds", "Duration of each job's most recent finished run.", labels=["job"]
        )
        latest_ids = JobRun.objects.exclude(finished_at=None).values("job").annotate(last=Max("id")).order_by()
        ids = [row["last"] for row in latest_ids]
        for job, seconds in JobRun.objects.filter(id__in=ids).values_list("job", "duration_seconds"):
            if seconds is not None:
                duration.add_metric([job], seconds)
        yield duration


class SecurityEventCollector(Collector):
    """atrium_security_events_total{type}: security events stored, by type."""

    def collect(self) -> Iterator[Any]:
        from accounts.models import SecurityEvent

        events = CounterMetricFamily("atrium_security_events", "Security events recorded, by type.", labels=["type"])
        for row in SecurityEvent.objects.values("event_type").annotate(n=Count("id")).order_by():
            events.add_metric([row["event_type"]], row["n"])
        yield events


TABLE_COLLECTORS: list[Collector] = [JobRunCollector(), SecurityEventCollector()]
