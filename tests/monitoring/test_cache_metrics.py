"""The cache hit ratio on /metrics: hits, misses and errors of the shared (Redis) cache and the process-local layer."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core.cache import cache, caches

from core.cache import FailSafeRedisCache, clear_local_cache, versioned_get

pytestmark = pytest.mark.django_db

READS = "atrium_cache_requests_total"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_shared_cache_reads_are_counted_as_hits_and_misses(redis_url: str, scrape: Any) -> None:
    assert isinstance(caches["default"], FailSafeRedisCache)  # the harness's Redis, behind the fail-safe wrapper
    before = scrape()
    cache.get("monitoring:absent")
    cache.set("monitoring:present", "yes", 30)
    cache.get("monitoring:present")
    cache.get_many(["monitoring:present", "monitoring:absent", "monitoring:also-absent"])
    after = scrape()
    assert after.total(READS, cache="redis", result="hit") - before.total(READS, cache="redis", result="hit") == 2
    assert after.total(READS, cache="redis", result="miss") - before.total(READS, cache="redis", result="miss") == 3


def test_reads_while_redis_is_down_are_counted_as_errors(scrape: Any) -> None:
    down = FailSafeRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5}})
    before = scrape().total(READS, cache="redis", result="error")
    assert down.get("anything", "fallback") == "fallback"  # the connection fails: the breaker opens
    assert down.get("anything", "fallback") == "fallback"  # not even tried while the breaker is open
    assert scrape().total(READS, cache="redis", result="error") == before + 2


def test_the_process_local_layer_counts_its_own_hits(scrape: Any) -> None:
    clear_local_cache()
    before = scrape()
    versioned_get("monitoring:v1:key", lambda: "computed")
    versioned_get("monitoring:v1:key", lambda: "computed")
    after = scrape()
    assert after.total(READS, cache="local", result="miss") - before.total(READS, cache="local", result="miss") == 1
    assert after.total(READS, cache="local", result="hit") - before.total(READS, cache="local", result="hit") == 1


def test_the_readiness_probe_does_not_count_towards_the_ratio(redis_url: str, client: Any, scrape: Any) -> None:
    from monitoring import health

    health.forget()
    before = scrape().total(READS, cache="redis")
    assert client.get("/-/health/ready").status_code == 200
    assert scrape().total(READS, cache="redis") == before
