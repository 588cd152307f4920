"""Database health detail: Galera state, slow queries, connection usage and replication, from the server's status.

Read at scrape time (monitoring.collectors.DatabaseCollector) and by `manage.py health --database`. It costs two
cheap statements, each bounded by a statement timeout: one SELECT of the status and variables it needs, and
SHOW REPLICA STATUS (which needs the REPLICA MONITOR / REPLICATION CLIENT privilege: without it the replication
state is reported as unreadable, never as an error). On SQLite there is nothing to read.

Through the HAProxy write VIP these are the values of the node Atrium writes to (and the cluster as that node sees
it); per-node Galera alerts use mysqld_exporter on each node (deploy/monitoring/prometheus.yml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection

# Bound on each status statement; the status tables answer in microseconds, unless the server is in trouble.
STATEMENT_TIMEOUT_SECONDS = 2

STATUS_NAMES = (
    "slow_queries",
    "threads_connected",
    "threads_running",
    "max_used_connections",
    "wsrep_cluster_size",
    "wsrep_cluster_status",
    "wsrep_connected",
    "wsrep_ready",
    "wsrep_local_state",
    "wsrep_local_state_comment",
    "wsrep_local_recv_queue",
    "wsrep_flow_control_paused",
    "wsrep_flow_control_paused_ns",
    "wsrep_flow_control_sent",
    "wsrep_flow_control_recv",
)
VARIABLE_NAMES = ("wsrep_on", "max_connections", "slow_query_log", "long_query_time")

# MySQL 8 renamed the columns; MariaDB keeps the old names under SHOW REPLICA STATUS.
_REPLICA_COLUMNS = {
    "io_running": ("Slave_IO_Running", "Replica_IO_Running"),
    "sql_running": ("Slave_SQL_Running", "Replica_SQL_Running"),
    "seconds_behind": ("Seconds_Behind_Master", "Seconds_Behind_Source"),
    "last_error": ("Last_Error",),
    "source_host": ("Master_Host", "Source_Host"),
}
_ACCESS_DENIED = (1227, 1142, 1044, 1045)  # specific privilege, command, database, user


@dataclass
class DatabaseStatus:
    """What the server says about itself; `error` is set (and the rest empty) when it could not be read."""

    vendor: str
    status: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    replica: dict[str, Any] | None = None  # None: not a replica, or unreadable (then replica_problem says why)
    replica_problem: str = ""
    error: str = ""

    @property
    def readable(self) -> bool:
        return self.vendor == "mysql" and not self.error

    @property
    def galera_enabled(self) -> bool:
        return self.variables.get("wsrep_on", "").upper() == "ON"

    def number(self, name: str) -> float | None:
        """A status value as a number: ON/OFF and YES/NO become 1/0; None when missing or not numeric."""
        value = self.status.get(name, self.variables.get(name))
        if value is None:
            return None
        text = str(value).strip().upper()
        if text in ("ON", "YES", "TRUE"):
            return 1.0
        if text in ("OFF", "NO", "FALSE"):
            return 0.0
        try:
            return float(text)
        except ValueError:
            return None

    @property
    def connection_usage(self) -> float | None:
        connected, limit = self.number("threads_connected"), self.number("max_connections")
        return connected / limit if connected is not None and limit else None

    def as_json(self) -> dict[str, Any]:
        """The detail `manage.py health --database` prints."""
        if self.vendor != "mysql":
            return {"vendor": self.vendor, "detail": "no server status on this database"}
        if self.error:
            return {"vendor": self.vendor, "error": self.error}
        usage = self.connection_usage
        result: dict[str, Any] = {
            "vendor": self.vendor,
            "slow_queries": self.number("slow_queries"),
            "slow_query_log": self.variables.get("slow_query_log", ""),
            "long_query_time": self.number("long_query_time"),
            "connections": {
                "connected": self.number("threads_connected"),
                "running": self.number("threads_running"),
                "max_used": self.number("max_used_connections"),
                "max": self.number("max_connections"),
                "usage": round(usage, 4) if usage is not None else None,
            },
            "replication": self.replication_summary(),
            "galera": None,
        }
        if self.galera_enabled:
            result["galera"] = {name: value for name, value in self.status.items() if name.startswith("wsrep_")}
        return result

    def replication_summary(self) -> dict[str, Any]:
        if self.replica_problem:
            return {"state": "unknown", "detail": self.replica_problem}
        if self.replica is None:
            if self.galera_enabled:
                comment = self.status.get("wsrep_local_state_comment", "")
                return {"state": "galera", "detail": f"Galera node, {comment or 'state unknown'}"}
            return {"state": "not a replica"}
        return {"state": "replica", **self.replica}


def _status_sql() -> str:
    names = ", ".join(f"'{name.upper()}'" for name in STATUS_NAMES)
    variables = ", ".join(f"'{name.upper()}'" for name in VARIABLE_NAMES)
    # Only the constant names above go into the statement.
    status = "SELECT 'status', LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
    variable = "SELECT 'variable', LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES "
    return _bounded(
        f"{status}WHERE VARIABLE_NAME IN ({names}) UNION ALL {variable}WHERE VARIABLE_NAME IN ({variables})"
    )


def _bounded(sql: str) -> str:
    if getattr(connection, "mysql_is_mariadb", True):
        return f"SET STATEMENT max_statement_time={STATEMENT_TIMEOUT_SECONDS} FOR {sql}"
    return sql.replace("SELECT ", f"SELECT /*+ MAX_EXECUTION_TIME({STATEMENT_TIMEOUT_SECONDS * 1000}) */ ", 1)


def read_status() -> DatabaseStatus:
    """The database's status now (see the module docstring). Never raises for a database error."""
    from .health import database_cursor

    result = DatabaseStatus(vendor=connection.vendor)
    if connection.vendor != "mysql":
        return result
    try:
        with database_cursor() as cursor:
            cursor.execute(_status_sql())
            for kind, name, value in cursor.fetchall():
                (result.status if kind == "status" else result.variables)[str(name)] = str(value)
    except DatabaseError as exc:
        result.error = f"status unreadable: {exc}"
        return result
    _read_replica(result)
    return result


def _read_replica(result: DatabaseStatus) -> None:
    from .health import database_cursor

    for statement in ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"):
        try:
            with database_cursor() as cursor:
                cursor.execute(statement)
                columns = [column[0] for column in cursor.description or ()]
                row = cursor.fetchone()
        except DatabaseError as exc:
            code = exc.args[0] if exc.args else None
            if code in _ACCESS_DENIED:
                result.replica_problem = (
                    f"replication state not readable: {exc.args[-1]} (grant REPLICA MONITOR, or REPLICATION CLIENT "
                    "on older servers, to read it)"
                )
                return
            if code == 1064 and statement == "SHOW REPLICA STATUS":
                continue  # a server older than MariaDB 10.5 / MySQL 8.0.22
            result.replica_problem = f"replication state not readable: {exc}"
            return
        if row is None:
            result.replica = None
            return
        values = dict(zip(columns, row, strict=False))
        result.replica = {
            key: next((values[name] for name in names if name in values), None)
            for key, names in _REPLICA_COLUMNS.items()
        }
        return
