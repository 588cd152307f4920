"""Database health detail: `manage.py health --database` and the database and Galera gauges on /metrics, read from
the real MariaDB's status; Galera's values as a node reports them; a missing privilege or a failing query is
reported, never an error page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections

from monitoring import collectors, database, health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_report() -> Iterator[None]:
    health.forget()
    yield
    health.forget()


def test_health_database_prints_connections_slow_queries_and_replication(mariadb: None) -> None:
    out = StringIO()
    call_command("health", "--database", stdout=out)
    detail = json.loads(out.getvalue())["database"]
    assert detail["vendor"] == "mysql"
    assert detail["connections"]["max"] == 300  # the harness starts MariaDB with --max-connections=300
    assert 1 <= detail["connections"]["connected"] <= 300
    assert 0 < detail["connections"]["usage"] <= 1
    assert detail["slow_queries"] >= 0
    assert detail["replication"] == {"state": "not a replica"}
    assert detail["galera"] is None  # a single server: wsrep is off


def test_metrics_show_the_database_servers_health(mariadb: None, scrape: Any) -> None:
    result = scrape()
    assert result.value("atrium_db_max_connections") == 300
    assert 0 < result.value("atrium_db_connection_usage_ratio") <= 1  # type: ignore[operator]
    assert result.value("atrium_db_slow_queries_total") is not None
    assert result.value("atrium_db_replica") == 0
    assert result.value("atrium_db_replication_status_readable") == 1
    assert result.value("atrium_galera_enabled") == 0
    assert not result.samples("atrium_galera_cluster_size")  # nothing else about Galera without wsrep


@pytest.fixture
def monitoring_user(mariadb: None) -> Iterator[Any]:
    """A connection as a user that may read the tables but not the replication state, as a locked-down DBA sets
    up a monitoring account."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE USER IF NOT EXISTS 'atrium_mon_test'@'127.0.0.1' IDENTIFIED BY 'mon-test'")
        cursor.execute(f"GRANT SELECT ON `{connection.settings_dict['NAME']}`.* TO 'atrium_mon_test'@'127.0.0.1'")
    limited = connections.create_connection("default")
    limited.settings_dict = {**limited.settings_dict, "USER": "atrium_mon_test", "PASSWORD": "mon-test"}
    yield limited
    limited.close()
    with connection.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS 'atrium_mon_test'@'127.0.0.1'")


def test_a_missing_replication_privilege_is_reported_not_raised(
    monitoring_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "database_cursor", monitoring_user.cursor)
    status = database.read_status()
    assert status.readable and status.number("max_connections") == 300
    assert status.replica is None and "REPLICA MONITOR" in status.replica_problem
    assert status.as_json()["replication"]["state"] == "unknown"
    families = {family.name: family for family in collectors.DatabaseCollector().collect()}
    assert families["atrium_db_replication_status_readable"].samples[0].value == 0
    assert "atrium_db_replica" not in families


GALERA_NODE = {
    "wsrep_cluster_size": "3",
    "wsrep_cluster_status": "Primary",
    "wsrep_connected": "ON",
    "wsrep_ready": "ON",
    "wsrep_local_state": "4",
    "wsrep_local_state_comment": "Synced",
    "wsrep_local_recv_queue": "2",
    "wsrep_flow_control_paused": "0.25",
    "wsrep_flow_control_paused_ns": "1500000000",
    "wsrep_flow_control_sent": "7",
    "wsrep_flow_control_recv": "11",
    "threads_connected": "30",
    "slow_queries": "4",
}


def test_a_galera_nodes_status_becomes_gauges(db: Any, monkeypatch: pytest.MonkeyPatch, scrape: Any) -> None:
    node = database.DatabaseStatus(
        vendor="mysql", status=dict(GALERA_NODE), variables={"wsrep_on": "ON", "max_connections": "200"}
    )
    monkeypatch.setattr(database, "read_status", lambda: node)
    result = scrape()
    assert result.value("atrium_galera_enabled") == 1
    assert result.value("atrium_galera_cluster_size") == 3
    assert result.value("atrium_galera_cluster_primary") == 1
    assert (result.value("atrium_galera_ready"), result.value("atrium_galera_connected")) == (1, 1)
    assert result.value("atrium_galera_local_state") == 4
    assert result.value("atrium_galera_local_recv_queue") == 2
    assert result.value("atrium_galera_flow_control_paused_ratio") == 0.25
    assert result.value("atrium_galera_flow_control_paused_seconds_total") == 1.5
    assert result.value("atrium_galera_flow_control_sent_total") == 7
    assert result.value("atrium_galera_flow_control_recv_total") == 11
    assert result.value("atrium_db_connection_usage_ratio") == 0.15
    assert result.value("atrium_db_slow_queries_total") == 4
    assert node.as_json()["replication"] == {"state": "galera", "detail": "Galera node, Synced"}


def test_sqlite_or_an_unreadable_status_exports_nothing_about_the_server(
    db: Any, monkeypatch: pytest.MonkeyPatch, scrape: Any
) -> None:
    def unreachable() -> Any:
        raise OperationalError(2013, "Lost connection to server during query")

    monkeypatch.setattr(health, "database_cursor", unreachable)
    result = scrape()
    assert not result.samples("atrium_galera_enabled") and not result.samples("atrium_db_max_connections")


def test_a_failing_collector_is_left_out_and_reported_while_metrics_still_answer(
    db: Any, monkeypatch: pytest.MonkeyPatch, scrape: Any
) -> None:
    def broken(self: Any) -> Any:
        raise OperationalError(1205, "Lock wait timeout exceeded")

    monkeypatch.setattr(collectors.SecurityEventCollector, "collect", broken)
    result = scrape()
    assert result.value("atrium_metrics_collector_up", collector="securityevent") == 0
    assert result.value("atrium_metrics_collector_up", collector="jobrun") == 1
    assert not result.samples("atrium_sign_ins_total")
    assert result.samples("atrium_backup_last_verified_timestamp_seconds")
