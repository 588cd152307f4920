"""What the job status pages show: each job's last run, next run, duration trend, failures and data freshness.

Read-only queries only (the pages never write). Who sees which job: platform admins and auditors see all; a
section's editors see the jobs their section owns; nobody else sees any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from django.apps import apps
from django.db.models import Count, Q
from django.utils import timezone

from tenants.permissions import editable_sections, reads_everything

from .models import JobRun, Outcome
from .registry import JobSpec, all_jobs

TREND_RUNS = 30
FAILURE_WINDOW = timedelta(days=7)


def visible_jobs(user: Any) -> list[JobSpec]:
    """The jobs `user` may see: all for auditors and platform admins, their sections' jobs for editors."""
    jobs = all_jobs()
    if reads_everything(user):
        return jobs
    slugs = set(editable_sections(user).values_list("slug", flat=True))
    return [spec for spec in jobs if spec.section and spec.section in slugs]


def visible_job(user: Any, name: str) -> JobSpec | None:
    return next((spec for spec in visible_jobs(user) if spec.name == name), None)


@dataclass(frozen=True)
class Freshness:
    """A synced source's freshness: when it last synced successfully, and whether that is too long ago."""

    last_success_at: datetime | None
    target_minutes: int
    stale: bool


@dataclass(frozen=True)
class JobStatus:
    spec: JobSpec
    last: JobRun | None
    last_success: JobRun | None
    next_run: datetime
    failures: int
    durations: list[float]
    freshness: Freshness | None

    @property
    def healthy(self) -> bool:
        if self.freshness is not None and self.freshness.stale:
            return False
        return self.last is None or self.last.outcome in (Outcome.SUCCESS, Outcome.RUNNING)


def next_run(spec: JobSpec, now: datetime | None = None) -> datetime:
    start = timezone.localtime(now or timezone.now())
    return croniter(spec.schedule, start).get_next(datetime)  # type: ignore[no-any-return]


def statuses(specs: list[JobSpec]) -> list[JobStatus]:
    """One status per job, with a fixed number of queries however many jobs there are."""
    names = [spec.name for spec in specs]
    since = timezone.now() - FAILURE_WINDOW
    failures = dict(
        JobRun.objects.filter(job__in=names, started_at__gte=since)
        .exclude(outcome__in=(Outcome.SUCCESS, Outcome.RUNNING))
        .values_list("job")
        .annotate(n=Count("id"))
        .values_list("job", "n")
    )
    recent = _recent_runs(names)
    freshness = freshness_by_job(names)
    result = []
    for spec in specs:
        runs = recent.get(spec.name, [])
        result.append(
            JobStatus(
                spec=spec,
                last=runs[0] if runs else None,
                last_success=_last_success(spec.name, runs),
                next_run=next_run(spec),
                failures=failures.get(spec.name, 0),
                durations=[r.duration_seconds for r in reversed(runs) if r.duration_seconds is not None],
                freshness=freshness.get(spec.name),
            )
        )
    return result


def _recent_runs(names: list[str]) -> dict[str, list[JobRun]]:
    """The last TREND_RUNS runs of each job (one query per job: indexed by (job, started_at), and jobs are few)."""
    return {name: list(JobRun.objects.filter(job=name).order_by("-started_at", "-id")[:TREND_RUNS]) for name in names}


def _last_success(name: str, runs: list[JobRun]) -> JobRun | None:
    found = next((run for run in runs if run.outcome == Outcome.SUCCESS), None)
    if found is None and runs:
        found = JobRun.objects.filter(job=name, outcome=Outcome.SUCCESS).order_by("-started_at").first()
    return found


def freshness_by_job(names: list[str]) -> dict[str, Freshness]:
    """Freshness of the synced sources behind `sync.<slug>` jobs (none for other jobs)."""
    slugs = {name.removeprefix("sync."): name for name in names if name.startswith("sync.")}
    if not slugs or not apps.is_installed("jobs"):
        return {}
    try:
        source_model = apps.get_model("jobs", "SyncSource")
    except LookupError:  # the sync framework's tables are not installed
        return {}
    result = {}
    for source in source_model._default_manager.filter(slug__in=slugs).select_related("freshness"):
        state = getattr(source, "freshness", None)
        last = getattr(state, "last_success_at", None)
        target = int(source.freshness_target_minutes)
        stale = last is None or last < timezone.now() - timedelta(minutes=target)
        result[slugs[source.slug]] = Freshness(last, target, stale)
    return result


def runs_of(name: str) -> Any:
    return JobRun.objects.filter(job=name).order_by("-started_at", "-id")


def failing_filter() -> Q:
    return ~Q(outcome__in=(Outcome.SUCCESS, Outcome.RUNNING))
