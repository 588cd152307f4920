"""/-/health/ready's Galera rule against a real cluster: a node that leaves the Synced state is not ready.

`manage.py health` runs the same checks as the endpoint, in a process pointed at one node, like a web instance.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.harness.galera import GaleraCluster
from tests.jobs.testjobs import ROOT, subprocess_env


def _health(cluster: GaleraCluster, node: int, database: str) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "manage.py", "health"],
        cwd=ROOT,
        env=subprocess_env(cluster.url(node, database)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(result.stdout or "{}")


def test_a_synced_node_is_ready_and_a_desynced_one_is_not(galera_cluster: GaleraCluster) -> None:
    status, report = _health(galera_cluster, 2, "mysql")
    assert status == 0, report
    assert report["checks"]["galera"]["values"]["wsrep_cluster_size"] == "3"

    admin = galera_cluster.connect(2)
    try:
        admin.cursor().execute("SET GLOBAL wsrep_desync = ON")
        status, report = _health(galera_cluster, 2, "mysql")
        assert status == 1
        assert report["failed"] == ["galera"]
        assert "wsrep_local_state_comment=Donor/Desynced" in report["checks"]["galera"]["detail"]
    finally:
        admin.cursor().execute("SET GLOBAL wsrep_desync = OFF")
        admin.close()
