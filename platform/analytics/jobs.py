"""The analytics job: every hour, merge the beacons' times into their views, recompute yesterday's and today's
daily aggregates (yesterday too, for views that were still in a web instance's buffer at midnight), and
pseudonymise the views older than ANALYTICS_PSEUDONYMISE_DAYS. Purging old rows is audit.purge-expired's work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from jobs.registry import job

from . import services


@job(name="analytics.aggregate", schedule="7 * * * *", timeout=3600)
def aggregate(ctx: Any) -> None:
    """Merge time on page, recompute yesterday's and today's daily aggregates, pseudonymise old page views."""
    merged = services.merge_page_times()
    today = timezone.localdate()
    results = services.aggregate_range(today - timedelta(days=1), today)
    pseudonymised = services.pseudonymise()
    views = sum(result.views for result in results)
    ctx.add(read=views, written=merged + pseudonymised + sum(result.rows_written for result in results))
    ctx.message = (
        f"{merged} views got their time on page; {views} views aggregated over {len(results)} days; "
        f"{pseudonymised} views pseudonymised"
    )
