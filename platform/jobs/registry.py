"""The job registry: every job's name, schedule, timeout, retry policy and owner, declared in code.

An app declares its jobs in its `jobs.py` (imported at start-up by JobsConfig.ready()):

    from jobs.registry import job

    @job(name="audit.purge-expired", schedule="15 3 * * *", timeout=3600)
    def purge_expired(ctx):
        ...
        ctx.add(written=deleted)

Jobs that come from configuration rows rather than code (one sync job per configured data source) are listed by
a *provider*, a function returning JobSpecs, registered with `register_provider`; the registry asks providers
each time, so a source added in the admin is a job at once (its crontab line comes with the next
`render_crontab`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter

JobFunction = Callable[[Any], Any]  # receives a jobs.runner.JobContext

_jobs: dict[str, JobSpec] = {}
_providers: list[Callable[[], Iterable[JobSpec]]] = []


class UnknownJob(LookupError):
    """No job has that name; the message lists the ones that exist."""


@dataclass(frozen=True)
class RetryPolicy:
    """Transient failures are retried up to `attempts` times in all, waiting base * 2^n seconds, less a random
    half of it ("equal jitter"), so job servers retrying one source do not stampede."""

    attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 60.0


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    schedule: str
    timeout: int = 600
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    section: str = ""  # owner: a section slug, or "" for the platform
    description: str = ""

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.schedule):
            raise ValueError(f"Job {self.name}: “{self.schedule}” is not a valid cron schedule.")
        if self.timeout < 1:
            raise ValueError(f"Job {self.name}: the timeout must be at least one second.")

    @property
    def owner(self) -> str:
        return self.section or "platform"


def job(
    *,
    name: str,
    schedule: str,
    timeout: int = 600,
    retry: RetryPolicy | None = None,
    section: str = "",
    description: str = "",
) -> Callable[[JobFunction], JobFunction]:
    """Register the decorated function as a job (see the module docstring)."""

    def register_function(function: JobFunction) -> JobFunction:
        doc = (function.__doc__ or "").strip().splitlines()
        register(
            JobSpec(
                name=name,
                function=function,
                schedule=schedule,
                timeout=timeout,
                retry=retry or RetryPolicy(),
                section=section,
                description=description or (doc[0] if doc else ""),
            )
        )
        return function

    return register_function


def register(spec: JobSpec) -> None:
    existing = _jobs.get(spec.name)
    if existing is not None and existing.function is not spec.function:
        raise ValueError(f"Two jobs are both called {spec.name}.")
    _jobs[spec.name] = spec


def unregister(name: str) -> None:
    """Forget a code-declared job (tests register throw-away jobs)."""
    _jobs.pop(name, None)


def register_provider(provider: Callable[[], Iterable[JobSpec]]) -> None:
    if provider not in _providers:
        _providers.append(provider)


def all_jobs() -> list[JobSpec]:
    """Every job, by name: the code-declared ones and those the providers list now."""
    found = dict(_jobs)
    for provider in _providers:
        for spec in provider():
            found.setdefault(spec.name, spec)
    return sorted(found.values(), key=lambda spec: spec.name)


def get_job(name: str) -> JobSpec:
    for spec in all_jobs():
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in all_jobs()) or "none"
    raise UnknownJob(f"There is no job called “{name}”. Jobs: {known}.")
