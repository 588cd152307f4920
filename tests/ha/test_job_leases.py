"""Job leases on a real three-node Galera cluster: one runner at a time, whichever node each runner talks to.

On Galera, GET_LOCK and SELECT … FOR UPDATE are node-local; the lease is a row that a runner must commit, and
Galera's certification lets only one of two concurrent commits of that row through (jobs.leases). These tests run
the real code against the real cluster: a fresh database migrated on node 1, then

- two `manage.py run_job` processes for the same job, one connected to node 1 and one to node 2, released at the
  same instant: exactly one runs the job, the other reports who runs it;
- two processes calling `jobs.leases.acquire` on nodes 1 and 2 at the same instants, round after round: never
  both granted, and in every round one of them gets the lease.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.leases import host_name
from tests.harness.galera import GaleraCluster
from tests.jobs.testjobs import ROOT, SLEEP_JOB, start_runners, subprocess_env

pytestmark = pytest.mark.slow

RACE_LEASE = "tests.race"
RACE_ROUNDS = 20
RACE_INTERVAL = 0.4  # seconds per round; the winner releases at 0.6 of it


@pytest.fixture(scope="module")
def cluster_database(galera_cluster: GaleraCluster) -> Iterator[str]:
    """A fresh database, created and migrated (`manage.py migrate`) on node 1; yields its name."""
    name = f"atrium_ha_{uuid.uuid4().hex[:8]}"
    admin = galera_cluster.connect(1)
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=subprocess_env(galera_cluster.url(1, name)),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, f"migrate on node 1 failed:\n{result.stdout}\n{result.stderr}"
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def _query(cluster: GaleraCluster, node: int, database: str, sql: str, *params: object) -> list[tuple]:
    """Rows from one node, after it has applied everything committed anywhere in the cluster (wsrep_sync_wait)."""
    connection = cluster.connect(node, database)
    try:
        cursor = connection.cursor()
        cursor.execute("SET SESSION wsrep_sync_wait = 1")
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        connection.close()


def _certification_failures(cluster: GaleraCluster) -> int:
    """Commits that Galera refused on nodes 1 and 2 because another node's conflicting commit came first."""
    return sum(int(cluster.status(cluster.node(node), "wsrep_local_cert_failures") or 0) for node in (1, 2))


def test_the_migrated_schema_is_on_every_node(galera_cluster: GaleraCluster, cluster_database: str) -> None:
    for node in (2, 3):
        tables = {row[0] for row in _query(galera_cluster, node, cluster_database, "SHOW TABLES")}
        assert {"jobs_joblease", "jobs_jobrun", "accounts_securityevent"} <= tables, f"node {node}: {sorted(tables)}"


def test_runners_on_two_nodes_started_at_the_same_instant_run_the_job_exactly_once(
    galera_cluster: GaleraCluster, cluster_database: str, tmp_path: Path
) -> None:
    runs = [
        (f"runner on node {node}", ["run", SLEEP_JOB], subprocess_env(galera_cluster.url(node, cluster_database)))
        for node in (1, 2)
    ]
    runners = start_runners(tmp_path / "go", runs)
    for runner in runners:
        runner.finish(timeout=90)
    outputs = "\n".join(runner.output() for runner in runners)

    assert [runner.returncode for runner in runners] == [0, 0], outputs
    ran = [runner for runner in runners if f"{SLEEP_JOB}: Succeeded" in runner.stdout]
    waited = [runner for runner in runners if f"{SLEEP_JOB} is already running on {host_name()}" in runner.stdout]
    assert len(ran) == 1 and len(waited) == 1, outputs
    # Read on node 3, which neither runner used: the cluster as a whole has one run, and no lease left behind.
    rows = _query(galera_cluster, 3, cluster_database, "SELECT outcome, pid FROM jobs_jobrun WHERE job = %s", SLEEP_JOB)
    assert rows == [("success", ran[0].process.pid)], outputs
    assert _query(galera_cluster, 3, cluster_database, "SELECT * FROM jobs_joblease WHERE name = %s", SLEEP_JOB) == []


def test_acquire_on_two_nodes_at_the_same_instant_never_grants_the_lease_twice(
    galera_cluster: GaleraCluster, cluster_database: str, tmp_path: Path
) -> None:
    args = ["race", RACE_LEASE, str(RACE_ROUNDS), str(RACE_INTERVAL)]
    runs = [
        (f"acquirer on node {node}", args, subprocess_env(galera_cluster.url(node, cluster_database)))
        for node in (1, 2)
    ]
    conflicts_before = _certification_failures(galera_cluster)
    runners = start_runners(tmp_path / "go", runs)
    for runner in runners:
        runner.finish(timeout=90)
    outputs = "\n".join(runner.output() for runner in runners)
    assert [runner.returncode for runner in runners] == [0, 0], outputs

    node1, node2 = (runner.json_lines() for runner in runners)
    assert len(node1) == len(node2) == RACE_ROUNDS, outputs
    double = [a["round"] for a, b in zip(node1, node2, strict=True) if a["granted"] and b["granted"]]
    assert double == [], f"both nodes were granted the lease in rounds {double}"
    nobody = [a["round"] for a, b in zip(node1, node2, strict=True) if not a["granted"] and not b["granted"]]
    assert nobody == [], f"neither node got the free lease in rounds {nobody}"
    # The races were real cross-node races, decided by Galera's certification of the two commits (not merely by
    # one node already seeing the other's row): here, about one certification failure per round.
    conflicts = _certification_failures(galera_cluster) - conflicts_before
    assert conflicts >= 3, f"only {conflicts} certification conflicts in {RACE_ROUNDS} rounds:\n{outputs}"
    assert _query(galera_cluster, 3, cluster_database, "SELECT * FROM jobs_joblease WHERE name = %s", RACE_LEASE) == []
