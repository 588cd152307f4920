"""Rate limits per token and per user, in the shared cache (Redis in uat and prod), stricter for writes and ingestion.

Every authenticated call counts against two buckets:
- its credential's bucket for the call's scope: `read` (GET, HEAD, OPTIONS), `write` (anything else) or `ingest`
  (views that declare `throttle_scope = "ingest"`), keyed by the token, or by the user for session calls;
- its user's bucket (`user` rate), shared by all of that person's tokens and sessions, so creating more tokens
  does not buy more calls.
Rates come from settings.API_THROTTLE_RATES ("600/min"; an empty or missing rate means no limit) and are read on
every call, so tests and operators can change them without a restart of the throttle classes.

The counters are fixed windows (`INCR` of a key per window): one atomic round trip per bucket, the same count on
every web instance. A burst at a window's edge can reach twice the rate for a moment, which is acceptable for
protecting the service. When Redis is down the fail-safe cache answers nothing and calls are let through: the API
stays up, unthrottled, and the cache outage is already logged and reported by the readiness probe.
A refused call gets 429 with `Retry-After` (seconds until the window ends) and a problem body (api.errors).
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from core.net import client_ip

from .authentication import token_of

READ, WRITE, INGEST, USER = "read", "write", "ingest", "user"
_PERIODS = {
    **dict.fromkeys(("s", "sec", "second"), 1),
    **dict.fromkeys(("m", "min", "minute"), 60),
    **dict.fromkeys(("h", "hour"), 3600),
    **dict.fromkeys(("d", "day"), 86400),
}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """ "600/min" → (600, 60): requests allowed per period in seconds; None for "no limit"."""
    if not rate:
        return None
    count, _, period = rate.partition("/")
    try:
        return int(count), _PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"API throttle rate {rate!r} is not like '600/min' (s, min, hour or day).") from None


def rate_for(scope: str) -> tuple[int, int] | None:
    return parse_rate(getattr(settings, "API_THROTTLE_RATES", {}).get(scope))


def scope_of(request: Any, view: Any) -> str:
    """The bucket a call counts against: the view's own scope (ingestion), else read or write by method."""
    declared = getattr(view, "throttle_scope", None)
    if declared:
        return str(declared)
    return READ if request.method in SAFE_METHODS else WRITE


def credential_of(request: Any) -> str:
    """Who the scope bucket belongs to: the token, else the signed-in user, else the client address."""
    token = token_of(request)
    if token is not None:
        return f"token:{token.pk}"
    if request.user is not None and request.user.is_authenticated:
        return f"session:{request.user.pk}"
    return f"ip:{client_ip(request._request)}"


def count_call(key: str, period: int, now: float) -> tuple[int | None, int]:
    """Add one call to `key`'s current window; return (calls so far in it, or None without a cache; seconds left)."""
    window = int(now // period)
    cache_key = f"api:throttle:{key}:{period}:{window}"
    # add() only sets a missing key, so the first call of a window starts the count and never resets another's.
    cache.add(cache_key, 0, period + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the key expired between add() and incr()
        cache.set(cache_key, 1, period + 1)
        count = 1
    seconds_left = max(1, math.ceil((window + 1) * period - now))
    return count, seconds_left


class ApiRateThrottle(BaseThrottle):
    """The API's one throttle: the credential's scope bucket, then the user's overall bucket."""

    def __init__(self) -> None:
        self.wait_seconds: int | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        now = time.time()
        scope = scope_of(request, view)
        buckets = [(f"{scope}:{credential_of(request)}", rate_for(scope))]
        if request.user is not None and request.user.is_authenticated:
            buckets.append((f"{USER}:{request.user.pk}", rate_for(USER)))
        for key, rate in buckets:
            if rate is None:
                continue
            limit, period = rate
            count, seconds_left = count_call(key, period, now)
            if count is not None and count > limit:
                self.wait_seconds = seconds_left
                return False
        return True

    def wait(self) -> float | None:
        return self.wait_seconds
