"""What the recording decides per request, kept cheap: is this path tracked, has this user opted out, the
user's pseudonym, the page's same-origin referrer, and the signed token that ties a beacon to its view.

Nothing here queries the database on a warm request: the set of opted-out users is memoised per process for
OPT_OUT_MEMO_SECONDS (a change is seen at once by the instance that made it, by the others within that time).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.templatetags.static import static
from django.urls import get_urlconf, reverse

from core.live import live_setting

TOKEN_SALT = "analytics.beacon"  # noqa: S105 - a signing salt, not a password
OPT_OUT_MEMO_SECONDS = 30.0


# Paths -------------------------------------------------------------------------------------------------------------
def excluded_prefixes() -> tuple[str, ...]:
    return tuple(getattr(settings, "ANALYTICS_EXCLUDED_PREFIXES", ()))


def is_tracked_path(path: str) -> bool:
    """False for the admin, the API, probes, metrics, files and the beacon (ANALYTICS_EXCLUDED_PREFIXES)."""
    return not path.startswith(excluded_prefixes())


def referrer_path(referer: str, host: str) -> str:
    """The path of the referring page when it is a page of this portal (same host), else "".

    The query string is dropped, here as for the page itself: searches and filters can hold personal data.
    """
    if not referer:
        return ""
    try:
        parts = urlsplit(referer)
    except ValueError:
        return ""
    if parts.netloc.lower() != host.lower() or parts.scheme not in ("http", "https"):
        return ""
    return (parts.path or "/")[:500]


def is_recording() -> bool:
    """Is recording on? The deployment's ANALYTICS_ENABLED and the live switch ANALYTICS_RECORDING (memoised for
    two seconds per process, so this costs no query on a warm request)."""
    return bool(settings.ANALYTICS_ENABLED and live_setting("ANALYTICS_RECORDING"))


# Users -------------------------------------------------------------------------------------------------------------
def pseudonymisation_key() -> bytes:
    return str(getattr(settings, "ANALYTICS_PSEUDONYM_KEY", "") or settings.SECRET_KEY).encode()


@lru_cache(maxsize=4096)
def _pseudonym(key: bytes, user_id: int) -> str:
    return hmac.new(key, f"atrium.analytics.user:{user_id}".encode(), hashlib.sha256).hexdigest()[:32]


def pseudonym_for(user_id: int) -> str:
    """A keyed hash of the user id (HMAC-SHA256 with the secret key): the same user always gets the same value,
    so unique users still count once the user is forgotten, and nobody without the key can reverse it."""
    return _pseudonym(pseudonymisation_key(), int(user_id))


class _OptOutMemo:
    """The ids of users who opted out, read at most every OPT_OUT_MEMO_SECONDS per process."""

    def __init__(self) -> None:
        self._ids: frozenset[int] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def ids(self) -> frozenset[int]:
        now = time.monotonic()
        if now - self._read_at < OPT_OUT_MEMO_SECONDS:
            return self._ids
        from .models import AnalyticsOptOut

        ids = frozenset(AnalyticsOptOut.objects.values_list("user_id", flat=True))
        with self._lock:
            self._ids, self._read_at = ids, now
        return ids

    def forget(self) -> None:
        with self._lock:
            self._read_at = float("-inf")


_opt_outs = _OptOutMemo()


def forget_opt_outs() -> None:
    """Called after an opt-out changes (and by tests), so this process reads the set again."""
    _opt_outs.forget()


def has_opted_out(user_id: int) -> bool:
    """Is this user's recording switched off? (Only while the live setting allows opting out.)"""
    return user_id in _opt_outs.ids() and bool(live_setting("ANALYTICS_ALLOW_OPT_OUT"))


# The page's view and its beacon token ------------------------------------------------------------------------------
@dataclass
class ViewMark:
    """Set on the request as `request.analytics_view` before the view runs, so the page can carry its id."""

    id: uuid.UUID
    user_id: int
    started: float  # time.time() when the request came in
    clock: float  # time.perf_counter() at the same moment, for the response time

    @property
    def token(self) -> str:
        """The signed token the beacon sends back: this view's id and its user's id (computed once, on render)."""
        return make_token(self.id, self.user_id)

    # The beacon's addresses, looked up once per process (and URL configuration) rather than by {% url %} and
    # {% static %} on every page: those lookups were most of the recording's cost per page.
    @property
    def beacon_url(self) -> str:
        return _beacon_url(get_urlconf())

    @property
    def script_url(self) -> str:
        return _script_url()


@lru_cache(maxsize=8)
def _beacon_url(urlconf: str | None) -> str:
    return reverse("analytics:beacon", urlconf=urlconf)


@lru_cache(maxsize=1)
def _script_url() -> str:
    return static("analytics/beacon.js")


def make_token(view_id: uuid.UUID, user_id: int) -> str:
    return signing.dumps({"v": view_id.hex, "u": int(user_id)}, salt=TOKEN_SALT)


@dataclass(frozen=True)
class BeaconClaim:
    view_id: uuid.UUID
    user_id: int


def read_token(token: str) -> BeaconClaim:
    """The view and user a token names; signing.BadSignature when it was tampered with, has expired or is not a
    token at all (whatever is wrong, the caller answers 400 without saying which)."""
    data: Any = signing.loads(token, salt=TOKEN_SALT, max_age=settings.ANALYTICS_BEACON_MAX_AGE_SECONDS)
    try:
        return BeaconClaim(uuid.UUID(hex=str(data["v"])), int(data["u"]))
    except (KeyError, TypeError, ValueError):
        raise signing.BadSignature("The token's content is not a view and a user.") from None
