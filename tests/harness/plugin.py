"""pytest plugin (loaded with `-p tests.harness.plugin`) that starts private MariaDB and Redis before Django loads.

Django reads DATABASE_URL and REDIS_URL when pytest-django imports the settings, which happens before any
conftest.py runs, so the servers are started from this plugin's `pytest_load_initial_conftests` wrapper.

- `ATRIUM_TEST_DATABASE_URL` / `ATRIUM_TEST_REDIS_URL`: use these servers instead of starting private ones.
- `ATRIUM_TEST_SERVERS=none`: start nothing and test the dev defaults (SQLite, local memory); tests that need a
  real server then skip, except under `CI=true`, where they fail.
- Under `CI=true`, a server that cannot be started fails the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from typing import Any

import pytest

from .servers import MariaDBServer, RedisServer, ServerUnavailable

_started: list[Any] = []
STARTUP_PROBLEMS: list[str] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _start(kind: str, server: Any) -> str | None:
    try:
        server.start()
    except ServerUnavailable as exc:
        message = f"private {kind} could not be started: {exc}"
        if in_ci():
            raise pytest.UsageError(message) from exc
        STARTUP_PROBLEMS.append(message)
        return None
    _started.append(server)
    return str(server.url)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: list[str]) -> Generator[None]:
    os.environ.setdefault("ATRIUM_ENV", "test")
    os.environ["ATRIUM_READ_DOT_ENV"] = "false"
    is_xdist_worker = "PYTEST_XDIST_WORKER" in os.environ
    wanted = os.environ.get("ATRIUM_TEST_SERVERS", "all")
    if not is_xdist_worker and wanted != "none" and not any(a in ("--help", "--version") for a in args):
        database_url = os.environ.get("ATRIUM_TEST_DATABASE_URL") or _start("MariaDB", MariaDBServer())
        redis_url = os.environ.get("ATRIUM_TEST_REDIS_URL") or _start("Redis", RedisServer())
        if database_url:
            os.environ["DATABASE_URL"] = os.environ["ATRIUM_TEST_DATABASE_URL"] = database_url
        if redis_url:
            os.environ["REDIS_URL"] = os.environ["ATRIUM_TEST_REDIS_URL"] = redis_url
    if is_xdist_worker:
        _give_worker_its_own_redis_database()
    return (yield)


def _give_worker_its_own_redis_database() -> None:
    """Point each pytest-xdist worker at its own Redis database (gw0 → 1, gw1 → 2, …).

    The workers share the controller's private Redis, and tests clear the cache (FLUSHDB) between tests: on one
    shared database a worker would wipe another's sessions and throttling counters mid-test.
    """
    url = os.environ.get("REDIS_URL", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if not url or not worker.startswith("gw"):
        return
    base, _, _database = url.rpartition("/")
    os.environ["REDIS_URL"] = f"{base}/{int(worker[2:]) % 15 + 1}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [
        f"atrium database: {os.environ.get('DATABASE_URL', 'sqlite (dev default)')}",
        f"atrium cache: {os.environ.get('REDIS_URL', 'local memory (dev default)')}",
    ]
    return lines + [f"atrium harness: {p}" for p in STARTUP_PROBLEMS]


def pytest_unconfigure(config: pytest.Config) -> None:
    while _started:
        server = _started.pop()
        try:
            server.cleanup() if hasattr(server, "cleanup") else server.stop()
        except Exception as exc:
            print(f"atrium harness: could not stop {server}: {exc}", file=sys.stderr)
