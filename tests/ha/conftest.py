"""Fixtures of the cluster tests: one real three-node Galera cluster for the whole session, and the whole stack.

The cluster comes from tests/harness/galera.py (free ports, a temporary directory, about 10 s to a synced cluster).
`ha_stack` adds HAProxy, Redis, two gunicorn web instances and nginx around it (tests/harness/ha_stack.py) for one
test. When either cannot be started (galera-4, rsync, haproxy or nginx missing, a node failing to join), the tests
that need it skip, except under `CI=true`, where they fail with the logs. A failing test gets the end of every
node's error log in its report, and of the stack's logs when it used the stack.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from tests.harness.galera import GaleraCluster
from tests.harness.ha_stack import HAStack
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


@pytest.fixture
def ha_stack(galera_cluster: GaleraCluster) -> Iterator[HAStack]:
    """HAProxy, Redis, a migrated database with the demo, two web instances and nginx, around the session's cluster.

    On the way out, every Galera node the test left stopped is started again (and Synced), so that the session's
    cluster is whole for the tests that follow.
    """
    stack = HAStack(galera_cluster)
    try:
        stack.start()
    except ServerUnavailable as exc:
        message = f"this test needs the whole HA stack, which the harness could not start: {exc}"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield stack
    finally:
        stack.cleanup()
        for node in galera_cluster.nodes:
            if not node.running():
                galera_cluster.restart(node.number)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    report = yield
    cluster = getattr(item, "funcargs", {}).get("galera_cluster")
    if report.failed and isinstance(cluster, GaleraCluster):
        report.sections.append(("Galera node logs", cluster.log_tails()))
    stack = getattr(item, "funcargs", {}).get("ha_stack")
    if report.failed and isinstance(stack, HAStack):
        report.sections.append(("HA stack logs", stack.log_tails()))
    return report
