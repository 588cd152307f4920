"""Shared fixtures: the demo data, signed-in clients for each demo user, and guards for real servers."""

from __future__ import annotations

import importlib
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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Groups for pytest-xdist's `--dist loadgroup` (`make test` runs two workers): a test file runs on one worker,
    so its module fixtures (a browser, a generated API schema) are made once, and every test under tests/ha runs
    on the same worker, so one run starts one three-node Galera cluster rather than one per worker."""
    for item in items:
        group = "galera" if item.nodeid.startswith("tests/ha/") else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


# Rows that data migrations create. A transactional test (live server, transaction=True) ends with a flush that
# empties every table; these are put back after it, so the tests that follow on the same worker, in any order
# (pytest-xdist), see the database that `migrate` makes.
DATA_MIGRATIONS = (
    ("themes.migrations.0003_bundled_themes", "create_bundled_themes"),
    ("audit.migrations.0002_default_alert_rules", "create_default_rules"),
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the flush that ends a transactional test (fixture teardown, hence after `yield`), re-seed."""
    result = yield
    if nextitem is None:
        return result  # the session's last test: its teardown has just destroyed the test database
    marker = item.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
    if transactional or {"live_server", "transactional_db"} & set(getattr(item, "fixturenames", ())):
        from django.apps import apps
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for module, function in DATA_MIGRATIONS:
                getattr(importlib.import_module(module), function)(apps, None)
    return result


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
