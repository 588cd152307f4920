"""A django-redis cache that degrades to "always miss" while Redis is unreachable.

When Redis is down, reads return the default (so callers fall back to the database), writes are dropped, and
for `RETRY_AFTER_SECONDS` no connection is attempted at all, so no request pays a connect timeout. The outage is
logged once when it starts and once when Redis answers again, never per request.

Reads are counted in `atrium_cache_requests_total{cache,result}` (cache: `redis` for the shared cache, `local` for
the process-local layer of `versioned_get`; result: hit, miss, error), so the hit ratio and outages show on /metrics.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from prometheus_client import Counter
from redis.exceptions import RedisError

logger = logging.getLogger("atrium.cache")

CACHE_REQUESTS = Counter(
    "atrium_cache_requests",
    "Cache reads, by cache (redis: the shared cache, local: the process-local layer) and result (hit, miss, error).",
    ["cache", "result"],
)
_counting: ContextVar[bool] = ContextVar("atrium_cache_counting", default=True)


@contextlib.contextmanager
def uncounted() -> Iterator[None]:
    """Reads in this block are not counted (the readiness probe: one read a second must not make the ratio)."""
    token = _counting.set(False)
    try:
        yield
    finally:
        _counting.reset(token)


def count_reads(cache: str, result: str, n: int = 1) -> None:
    if n > 0 and _counting.get():
        CACHE_REQUESTS.labels(cache, result).inc(n)


def _count_result(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any, miss: Any) -> None:
    """Hits and misses of a successful `get` or `get_many` (a stored value equal to the default counts as a miss)."""
    if name == "get":
        count_reads("redis", "miss" if result is miss else "hit")
    elif name == "get_many":
        keys = args[0] if args else kwargs.get("keys", ())
        hits = len(result or {})
        count_reads("redis", "hit", hits)
        if hasattr(keys, "__len__"):
            count_reads("redis", "miss", len(keys) - hits)


def _count_error(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name == "get":
        count_reads("redis", "error")
    elif name == "get_many":
        keys = args[0] if args else kwargs.get("keys", ())
        count_reads("redis", "error", len(keys) if hasattr(keys, "__len__") else 1)


_FAILURES = (ConnectionInterrupted, RedisError, OSError)

# Methods whose failure returns a default instead of raising; the value is what a miss looks like.
_DEFAULTS: dict[str, Any] = {
    "get": "default",
    "get_many": {},
    "set": False,
    "add": False,
    "set_many": [],
    "delete": False,
    "delete_many": 0,
    "has_key": False,
    "touch": False,
    "incr": None,
    "decr": None,
    "clear": False,
    "ttl": 0,
    "expire": False,
    "persist": False,
    "delete_pattern": 0,
}


class FailSafeRedisCache(RedisCache):
    """RedisCache with a circuit breaker and once-only logging of outages."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self.retry_after = float(options.pop("RETRY_AFTER_SECONDS", 5.0))
        params = {**params, "OPTIONS": options}
        super().__init__(server, params)
        # django-redis must raise, so the breaker below sees the failure.
        self._ignore_exceptions = False
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._lock = threading.Lock()

    @property
    def is_available(self) -> bool:
        """False while the breaker is open (Redis was unreachable on the last attempt)."""
        return self._down_since is None

    def _record_failure(self, exc: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            self._retry_at = now + self.retry_after
            if self._down_since is None:
                self._down_since = now
                logger.error("Redis cache unreachable (%s); serving from the database until it is back.", exc)

    def _record_success(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                logger.warning("Redis cache reachable again after %.1f s.", time.monotonic() - self._down_since)
                self._down_since = None

    def _guarded(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            miss = _DEFAULTS[name]
            if name == "get":
                miss = kwargs.get("default", args[1] if len(args) > 1 else None)
            if self._down_since is not None and time.monotonic() < self._retry_at:
                _count_error(name, args, kwargs)  # not even tried: Redis is down
                return miss
            try:
                result = method(*args, **kwargs)
            except _FAILURES as exc:
                self._record_failure(exc)
                _count_error(name, args, kwargs)
                return miss
            self._record_success()
            _count_result(name, args, kwargs, result, miss)
            return result

        return call

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name in _DEFAULTS:
            return super().__getattribute__("_guarded")(name, attr)
        return attr


# ---------------------------------------------------------------------------------------------------------------
# A process-local layer for values whose key contains a version (section configuration version, sections
# generation): such a key never changes meaning, so every worker may keep its value in memory and skip the Redis
# round trip. A version bump makes new keys; old ones age out of the bounded LRU.
# ---------------------------------------------------------------------------------------------------------------
_LOCAL_MAX = 4096
_local: OrderedDict[str, Any] = OrderedDict()
_local_lock = threading.Lock()
_MISSING = object()


def versioned_get(key: str, compute: Callable[[], Any], timeout: int = 3600) -> Any:
    """The value for a versioned `key`: from this process's memory, else the shared cache, else `compute()`."""
    with _local_lock:
        value = _local.get(key, _MISSING)
        if value is not _MISSING:
            _local.move_to_end(key)
    if value is not _MISSING:
        count_reads("local", "hit")
        return value
    count_reads("local", "miss")
    from django.core.cache import cache

    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout)
    with _local_lock:
        _local[key] = value
        if len(_local) > _LOCAL_MAX:
            _local.popitem(last=False)
    return value


def clear_local_cache() -> None:
    """Forget the process-local layer (tests clear it with the shared cache)."""
    with _local_lock:
        _local.clear()
