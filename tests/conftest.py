"""Shared fixtures: the demo data, signed-in clients for each demo user, and guards for real servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import _auditor_memo
from core.cache import clear_local_cache
from core.live import forget_live_settings
from tests.harness.plugin import in_ci

DEMO_PASSWORD = "atrium-demo"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty cache: cached rows from a rolled-back test must not leak into the next."""
    cache.clear()
    clear_local_cache()
    forget_live_settings()
    _auditor_memo.clear()
    yield
    cache.clear()
    clear_local_cache()


def need_server(kind: str, available: bool) -> None:
    """Skip (outside CI) or fail (under CI=true) a test whose real server is missing."""
    if available:
        return
    message = f"this test needs a real {kind}, which the harness could not start"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def mariadb() -> None:
    """Use in tests that must run on the real MariaDB."""
    need_server("MariaDB", connection.vendor == "mysql")


@pytest.fixture
def redis_url() -> str:
    """The URL of the harness's Redis (tests that must talk to real Redis)."""
    url = os.environ.get("REDIS_URL", "")
    need_server("Redis", bool(url))
    return url


@pytest.fixture
def demo(db: Any) -> None:
    """The demo sections, roles, pages and menus (fixtures/demo.yaml), loaded through the services."""
    from demo.services import load_demo

    load_demo()


@pytest.fixture
def sign_in(db: Any) -> Callable[[str], Client]:
    """A client signed in as a mock-directory user, through the real sign-in form and backend."""

    def _sign_in(username: str, password: str = DEMO_PASSWORD) -> Client:
        client = Client()
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"{username} could not sign in: {response.status_code}"
        return client

    return _sign_in
