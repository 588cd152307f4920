"""The usage audit: who called which endpoint, with which token, how it went and how long it took.

Every API view is wrapped (`with_usage`, applied to the API's URL patterns) so no endpoint can forget it. After the
response is rendered the wrapper:
- counts the call in Prometheus (`atrium_api_requests_total`, `atrium_api_request_duration_seconds`, labelled by
  method, URL pattern and status), for dashboards and alerts per endpoint;
- inserts one ApiUsage row. That is one INSERT per API call, accepted for the audit trail it buys; it is written
  best-effort (a failure is logged, never turned into an error for the caller) and purged after
  API_USAGE_RETENTION_DAYS by the retention job.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Avg, Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from prometheus_client import Counter, Histogram

from core.net import client_ip
from core.services import run_in_transaction

from .models import ApiUsage

logger = logging.getLogger("atrium.api")

API_REQUESTS = Counter(
    "atrium_api_requests", "API calls, by method, URL pattern and status code.", ["method", "route", "status"]
)
API_DURATION = Histogram(
    "atrium_api_request_duration_seconds",
    "Time to answer an API call, by method and URL pattern.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

View = Callable[..., HttpResponseBase]


def route_of(request: HttpRequest) -> str:
    """The URL pattern the call matched (/api/v1/sections/<int:pk>/), so calls group by endpoint, not by id."""
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None and match.route else request.path


def record_call(request: HttpRequest, *, status: int, at: datetime, seconds: float) -> None:
    """Count the call in the metrics and store its ApiUsage row; never raises."""
    route = route_of(request)
    API_REQUESTS.labels(request.method, route, str(status)).inc()
    API_DURATION.labels(request.method, route).observe(seconds)
    user = getattr(request, "user", None)
    token = getattr(request, "auth", None)
    authenticated = bool(user is not None and user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    row = ApiUsage(
        at=at,
        user=user if authenticated else None,
        username=user.get_username()[:150] if authenticated and user is not None else "",
        token=token if getattr(token, "pk", None) else None,
        token_prefix=getattr(token, "prefix", "")[:8],
        method=(request.method or "")[:10],
        route=route[:300],
        path=request.path[:500],
        view_name=(match.view_name if match is not None else "")[:200],
        status=status,
        duration_ms=max(0, round(seconds * 1000)),
        ip_address=client_ip(request) or None,
        request_id=str(getattr(request, "id", ""))[:128],
    )
    try:
        run_in_transaction(row.save, retries=1)
    except Exception:
        logger.warning("Could not record API usage of %s %s.", request.method, route, exc_info=True)


def recorded(view: View) -> View:
    """Wrap an API view so each call is recorded once its response is rendered (or it raised: status 500)."""

    @functools.wraps(view)  # keeps csrf_exempt, and the `cls` attribute the schema generator reads
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        at, started = timezone.now(), time.monotonic()
        try:
            response = view(request, *args, **kwargs)
        except Exception:
            record_call(request, status=500, at=at, seconds=time.monotonic() - started)
            raise

        def after_render(rendered: HttpResponseBase) -> None:
            record_call(request, status=rendered.status_code, at=at, seconds=time.monotonic() - started)

        if hasattr(response, "add_post_render_callback"):
            # DRF renders after the view returns; the time to serialize the body belongs to the call.
            response.add_post_render_callback(after_render)
        else:
            after_render(response)
        return response

    return wrapper


def with_usage(patterns: Sequence[URLPattern | URLResolver]) -> list[URLPattern]:
    """The same URL patterns, every view wrapped by `recorded`."""
    wrapped: list[URLPattern] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            # An included list would escape the audit unnoticed: wrap it where it is defined instead.
            raise ImproperlyConfigured(f"with_usage() takes flat URL patterns, not the include {pattern}.")
        wrapped.append(URLPattern(pattern.pattern, recorded(pattern.callback), pattern.default_args, pattern.name))
    return wrapped


# ---------------------------------------------------------------------------------------------------------------
# Reading the audit (the usage page and the usage API share these)
# ---------------------------------------------------------------------------------------------------------------
def status_filter(queryset: QuerySet[ApiUsage], value: str) -> QuerySet[ApiUsage]:
    """`404` matches one status, `4xx` a class of them; anything else matches nothing."""
    value = (value or "").strip().lower()
    if value.isdigit():
        return queryset.filter(status=int(value))
    if len(value) == 3 and value[0].isdigit() and value[1:] == "xx":
        low = int(value[0]) * 100
        return queryset.filter(status__gte=low, status__lt=low + 100)
    return queryset.none()


def endpoint_summary(since: datetime, limit: int = 50) -> list[dict[str, Any]]:
    """Calls, errors and durations per endpoint since `since`, busiest first."""
    return list(
        ApiUsage.objects.filter(at__gte=since)
        .values("method", "route")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(status__gte=400)),
            average_ms=Avg("duration_ms"),
            slowest_ms=Max("duration_ms"),
        )
        .order_by("-calls", "route", "method")[:limit]
    )


def register_retention() -> None:
    """API usage rows are purged after API_USAGE_RETENTION_DAYS, like every other audit table."""
    from audit.retention import RetentionPolicy, register_policy

    register_policy(
        RetentionPolicy("api-usage", "API_USAGE_RETENTION_DAYS", "at", ApiUsage.objects.all, label="API usage records")
    )
