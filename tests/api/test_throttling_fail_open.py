"""When Redis cannot be reached the throttle lets calls through (ADR 0012): the API stays up, unthrottled."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from api import throttling
from core.cache import FailSafeRedisCache

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@override_settings(API_THROTTLE_RATES={"read": "1/day", "write": "1/day", "ingest": "1/day", "user": "1/day"})
def test_calls_are_let_through_when_the_cache_is_down(token_for, bearer, monkeypatch):
    down = FailSafeRedisCache(f"redis://127.0.0.1:{_closed_port()}/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5}})
    monkeypatch.setattr(throttling, "cache", down)
    client = bearer(token_for("fiona"))
    for _ in range(3):
        assert client.get("/api/v1/sections/").status_code == 200
    assert not down.is_available  # the outage was seen, and the calls went on regardless


@override_settings(API_THROTTLE_RATES={"read": "1/day"})
def test_the_same_limit_refuses_the_second_call_when_the_cache_answers(token_for, bearer):
    client = bearer(token_for("fiona"))
    assert client.get("/api/v1/sections/").status_code == 200
    assert client.get("/api/v1/sections/").status_code == 429
