"""What /metrics renders, and how gunicorn's many worker processes add up to one honest answer.

Counters kept in a web worker's memory (requests per section, cache reads, API calls, django-prometheus' request
metrics) only count what that worker served, and a scrape reaches one worker at random. So:

- With PROMETHEUS_MULTIPROC_DIR set (the web units set it; it must exist and be empty when gunicorn starts, see
  docs/monitoring.md), prometheus_client keeps every worker's values in files there, and /metrics adds up all the
  workers of this gunicorn instance, including workers that have exited since (counters stay monotonic when
  gunicorn recycles workers). Process metrics (`process_*`, `python_*`) are those of the worker that answered.
- Without it (development, tests, `manage.py` commands) the process's own registry is rendered.

Values computed at scrape time never go through those files: the table and database-status collectors
(monitoring.collectors) and the data-freshness gauges (jobs.metrics, set from the table just before rendering) are
rendered from this process, so a gauge some other worker set an hour ago cannot linger. A collector whose query
fails is left out and reported in atrium_metrics_collector_up{collector}, so a database outage does not make
/metrics fail (and Prometheus call the whole instance down).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import DatabaseError
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .collectors import TABLE_COLLECTORS

logger = logging.getLogger("atrium.monitoring")


def multiprocess_directory() -> str:
    """PROMETHEUS_MULTIPROC_DIR, as prometheus_client reads it (an environment variable, read at import)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def scrape_time_metrics() -> list[Any]:
    """Process-registry metrics whose values are set at scrape time, in the process that renders."""
    from jobs.metrics import LAST_SUCCESS, STALE

    return [LAST_SUCCESS, STALE]


class _Without(Collector):
    """Another collector's output less some metric families."""

    def __init__(self, collector: Collector, names: Iterable[str]) -> None:
        self.collector = collector
        self.names = set(names)

    def collect(self) -> Iterator[Any]:
        for family in self.collector.collect():
            if family.name not in self.names:
                yield family


def process_registry() -> CollectorRegistry:
    """The in-memory metrics: this process's registry, or every worker's from the multiprocess files."""
    directory = multiprocess_directory()
    if not directory:
        return REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    local = scrape_time_metrics()
    # The metric's name without the _total suffix is the family's name, which is what the files hold.
    registry.register(_Without(multiprocess.MultiProcessCollector(None, path=directory), [m._name for m in local]))
    for collector in (*local, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


class _Guarded(Collector):
    """Runs a table collector; a database error leaves its metrics out and sets its up-gauge to 0."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.name = type(collector).__name__.removesuffix("Collector").lower()
        self.up = True

    def collect(self) -> Iterator[Any]:
        try:
            families = list(self.collector.collect())
        except DatabaseError as exc:
            logger.warning("metrics collector %s failed: %s", self.name, exc, extra={"event": "metrics_collector"})
            self.up = False
            return
        self.up = True
        yield from families


class _CollectorHealth(Collector):
    def __init__(self, guarded: list[_Guarded]) -> None:
        self.guarded = guarded

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "atrium_metrics_collector_up",
            "1 when a scrape-time collector read its data, 0 when its query failed.",
            labels=["collector"],
        )
        for guarded in self.guarded:
            up.add_metric([guarded.name], 1 if guarded.up else 0)
        yield up


def table_registry() -> CollectorRegistry:
    """A registry of the table-backed collectors, kept apart from the process registry: they query the database,
    so only a scrape of /metrics runs them, never a library that walks the global registry."""
    registry = CollectorRegistry(auto_describe=False)
    guarded = [_Guarded(collector) for collector in TABLE_COLLECTORS]
    for collector in guarded:
        registry.register(collector)
    registry.register(_CollectorHealth(guarded))  # registered last: collected after the others ran
    return registry


def render() -> bytes:
    """The whole exposition: scrape-time values refreshed first, then the process metrics and the tables'."""
    from jobs.metrics import collect_freshness

    try:
        collect_freshness()
    except DatabaseError as exc:
        logger.warning("data freshness not refreshed for /metrics: %s", exc, extra={"event": "metrics_collector"})
    return generate_latest(process_registry()) + generate_latest(table_registry())
