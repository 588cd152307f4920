"""Prometheus gauges of data freshness, per synced source.

- `atrium_sync_last_success_timestamp_seconds{source}`: Unix time of the last successful sync (0: never).
- `atrium_sync_stale{source}`: 1 when the source's data is older than its freshness target (or never synced).

Syncs and the freshness check run on job servers, in short-lived processes that Prometheus never scrapes, so the
values they set are only a convenience there. The process that serves /metrics calls `collect_freshness()` before
rendering, which sets the gauges from the SourceFreshness table: every instance then reports the same, current
values. Alert rules should use `atrium_sync_stale == 1` (Atrium's own e-mail alert fires once per episode; see
jobs.sync.check_freshness).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from prometheus_client import Gauge

LAST_SUCCESS = Gauge(
    "atrium_sync_last_success_timestamp_seconds",
    "Unix time of the last successful sync of a data source (0: never).",
    ["source"],
)
STALE = Gauge(
    "atrium_sync_stale",
    "1 when a data source's last successful sync is older than its freshness target, else 0.",
    ["source"],
)


def record_source(slug: str, last_success_at: datetime | None, *, stale: bool) -> None:
    LAST_SUCCESS.labels(source=slug).set(last_success_at.timestamp() if last_success_at else 0)
    STALE.labels(source=slug).set(1 if stale else 0)


def collect_freshness() -> int:
    """Set both gauges from the table for every enabled source (disabled or deleted ones drop out); returns how many."""
    from .sync_models import SourceFreshness, SyncSource

    now = timezone.now()
    states = {state.source_id: state for state in SourceFreshness.objects.all()}
    values = []
    for source in SyncSource.objects.filter(enabled=True).only("id", "slug", "freshness_target_minutes"):
        state = states.get(source.pk)
        last = state.last_success_at if state else None
        stale = last is None or (now - last).total_seconds() > source.freshness_target_minutes * 60
        values.append((source.slug, last, stale))
    # Read everything first, so clearing (which drops disabled and deleted sources) and refilling is one quick step.
    LAST_SUCCESS.clear()
    STALE.clear()
    for slug, last, stale in values:
        record_source(slug, last, stale=stale)
    return len(values)
