"""The audit app's scheduled jobs: the nightly retention purge."""

from __future__ import annotations

from typing import Any

from jobs.registry import job

from .retention import purge_all


@job(name="audit.purge-expired", schedule="15 3 * * *", timeout=3 * 3600)
def purge_expired(ctx: Any) -> None:
    """Delete page visits, security events, API usage and history older than their retention periods."""
    results = purge_all()
    ctx.add(written=sum(result.deleted for result in results))
    deleted = sum(result.deleted for result in results)
    ctx.message = f"{deleted} expired rows removed from {sum(1 for r in results if r.deleted)} of {len(results)} tables"
