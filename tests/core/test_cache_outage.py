"""With Redis stopped mid-test, pages keep answering from the database and the outage is logged once."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

from tests.harness.servers import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_redis(redis_url):
    server = RedisServer().start()
    yield server
    server.cleanup()


def _cache_settings(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "core.cache.FailSafeRedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "RETRY_AFTER_SECONDS": 0.3},
        }
    }


def test_pages_answer_while_redis_is_down_and_the_outage_is_logged_once(private_redis, demo, sign_in, caplog):
    with override_settings(CACHES=_cache_settings(private_redis.url)):
        frank = sign_in("frank")
        assert frank.get("/finance/").status_code == 200
        assert caches["default"].get("tenants:section:slug:finance") is not None  # really served from Redis

        private_redis.stop()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="atrium.cache"):
            started = time.monotonic()
            for _ in range(10):
                response = frank.get("/finance/")
                assert response.status_code == 200
                assert "Month-end calendar" in response.content.decode()
            elapsed = time.monotonic() - started
            time.sleep(0.4)  # past the retry window: the next request tries Redis again, and fails again
            assert frank.get("/finance/").status_code == 200
        errors = [r for r in caplog.records if r.name == "atrium.cache" and r.levelno == logging.ERROR]
        assert len(errors) == 1, [r.getMessage() for r in errors]
        assert "Redis cache unreachable" in errors[0].getMessage()
        assert elapsed < 5, "requests must not each wait for a Redis connect timeout"

        private_redis.start()
        time.sleep(0.4)
        with caplog.at_level(logging.WARNING, logger="atrium.cache"):
            assert frank.get("/finance/").status_code == 200
        assert any("reachable again" in r.getMessage() for r in caplog.records)
        assert caches["default"].is_available
