"""Fixtures of the cluster tests: one real three-node Galera cluster for the whole session.

The cluster comes from tests/harness/galera.py (free ports, a temporary directory, about 10 s to a synced cluster).
When it cannot be started (galera-4 or rsync missing, a node failing to join), the tests that need it skip, except
under `CI=true`, where they fail with the nodes' logs. A failing test gets the end of every node's error log in
its report.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from tests.harness.galera import GaleraCluster
from tests.harness.plugin import in_ci
from tests.harness.servers import ServerUnavailable


@pytest.fixture(scope="session")
def galera_cluster() -> Iterator[GaleraCluster]:
    """A running, synced three-node Galera cluster with the user `atrium` on every node."""
    cluster = GaleraCluster()
    try:
        cluster.start()
    except ServerUnavailable as exc:
        message = f"this test needs a real Galera cluster, which the harness could not start: {exc}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield cluster
    finally:
        cluster.cleanup()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    report = yield
    cluster = getattr(item, "funcargs", {}).get("galera_cluster")
    if report.failed and isinstance(cluster, GaleraCluster):
        report.sections.append(("Galera node logs", cluster.log_tails()))
    return report
