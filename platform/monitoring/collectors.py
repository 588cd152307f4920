"""Prometheus metrics read at scrape time: from the tables (job runs, security events and sign-ins, backup
verification) and from the database server's status (connections, slow queries, replication, Galera).

Jobs run in short-lived processes on the job servers and security events are written by every web worker, so no
single process's in-memory counters could tell the whole story. The tables can: each scrape counts the rows
grouped by label, so every instance reports the same totals, and gunicorn's many workers need no shared memory
for them. Purges make a total drop, which Prometheus' `increase()` and `rate()` read as a counter reset, as they
should.

Sign-ins are counted this way too (`atrium_sign_ins_total{method,outcome}`), from the security events that every
sign-in path already records, rather than with counters in the web workers: the table is the one place that sees
every worker, every instance and the SSO callbacks alike, the count survives worker restarts, and it can never
disagree with the security events page. The method is the event's `method` column (accounts.security fills it for
failures and lock-outs as well as successes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Max
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class JobRunCollector(Collector):
    """atrium_job_runs_total{job,outcome}, atrium_job_last_success_timestamp_seconds{job},
    atrium_job_last_duration_seconds{job}."""

    def collect(self) -> Iterator[Any]:
        from jobs.models import JobRun, Outcome

        runs = CounterMetricFamily(
            "atrium_job_runs", "Job runs recorded, by job and outcome.", labels=["job", "outcome"]
        )
        for row in JobRun.objects.values("job", "outcome").annotate(n=Count("id")).order_by():
            runs.add_metric([row["job"], row["outcome"]], row["n"])
        yield runs

        last_success = GaugeMetricFamily(
            "atrium_job_last_success_timestamp_seconds", "Unix time a job last finished successfully.", labels=["job"]
        )
        successes = (
            JobRun.objects.filter(outcome=Outcome.SUCCESS).values("job").annotate(at=Max("finished_at")).order_by()
        )
        for row in successes:
            if row["at"] is not None:
                last_success.add_metric([row["job"]], row["at"].timestamp())
        yield last_success

        duration = GaugeMetricFamily(
            "atrium_job_last_duration_seconds", "Duration of each job's most recent finished run.", labels=["job"]
        )
        latest_ids = JobRun.objects.exclude(finished_at=None).values("job").annotate(last=Max("id")).order_by()
        ids = [row["last"] for row in latest_ids]
        for job, seconds in JobRun.objects.filter(id__in=ids).values_list("job", "duration_seconds"):
            if seconds is not None:
                duration.add_metric([job], seconds)
        yield duration


# Security event types that are sign-in outcomes, and the outcome label each becomes.
SIGN_IN_OUTCOMES = {
    "sign_in": "success",
    "sign_in_failed": "failure",
    "locked_out": "locked",
    "mfa_passed": "mfa_passed",
    "mfa_failed": "mfa_failed",
    "sso_error": "sso_error",
}
# The methods the sign-in paths record; anything else is "other", so a typo cannot add series.
SIGN_IN_METHODS = frozenset({"mock", "ldap", "oidc", "saml", "local", "token", "totp"})


class SecurityEventCollector(Collector):
    """atrium_security_events_total{type}, and atrium_sign_ins_total{method,outcome} from the same query."""

    def collect(self) -> Iterator[Any]:
        from accounts.models import SecurityEvent

        events = CounterMetricFamily("atrium_security_events", "Security events recorded, by type.", labels=["type"])
        sign_ins = CounterMetricFamily(
            "atrium_sign_ins",
            "Sign-in outcomes (success, failure, locked, mfa_passed, mfa_failed, sso_error) by method "
            "(mock, ldap, oidc, saml, local, token, totp; unknown when not recorded).",
            labels=["method", "outcome"],
        )
        by_type: dict[str, int] = {}
        by_sign_in: dict[tuple[str, str], int] = {}
        rows = SecurityEvent.objects.values("event_type", "method").annotate(n=Count("id")).order_by()
        for row in rows:
            by_type[row["event_type"]] = by_type.get(row["event_type"], 0) + row["n"]
            outcome = SIGN_IN_OUTCOMES.get(row["event_type"])
            if outcome is not None:
                method = row["method"] or "unknown"
                key = (method if method in SIGN_IN_METHODS or method == "unknown" else "other", outcome)
                by_sign_in[key] = by_sign_in.get(key, 0) + row["n"]
        for event_type, n in sorted(by_type.items()):
            events.add_metric([event_type], n)
        for (method, outcome), n in sorted(by_sign_in.items()):
            sign_ins.add_metric([method, outcome], n)
        yield events
        yield sign_ins


class DatabaseCollector(Collector):
    """The database server's health (monitoring.database): connections, slow queries, replication and Galera.

    Nothing on SQLite. On MariaDB without wsrep, atrium_galera_enabled is 0 and no other Galera metric is exported.
    """

    def collect(self) -> Iterator[Any]:
        from .database import read_status

        status = read_status()
        if not status.readable:
            return
        yield from _gauges(
            status.number,
            (
                ("atrium_db_connections", "threads_connected", "Client connections open on the database server."),
                ("atrium_db_connections_running", "threads_running", "Connections running a statement now."),
                ("atrium_db_max_connections", "max_connections", "The server's max_connections."),
                ("atrium_db_max_used_connections", "max_used_connections", "Most connections open at once."),
            ),
        )
        usage = status.connection_usage
        if usage is not None:
            yield GaugeMetricFamily(
                "atrium_db_connection_usage_ratio", "Connections open / max_connections (1 = full).", value=usage
            )
        slow = status.number("slow_queries")
        if slow is not None:
            yield CounterMetricFamily(
                "atrium_db_slow_queries",
                "Statements slower than long_query_time since the server started (Slow_queries).",
                value=slow,
            )
        yield from _replication(status)
        yield from _galera(status)


def _gauges(number: Any, specs: Iterable[tuple[str, str, str]]) -> Iterator[Any]:
    for metric, name, documentation in specs:
        value = number(name)
        if value is not None:
            yield GaugeMetricFamily(metric, documentation, value=value)


def _replication(status: Any) -> Iterator[Any]:
    readable = GaugeMetricFamily(
        "atrium_db_replication_status_readable",
        "1 when the replica status could be read (0: missing the REPLICA MONITOR / REPLICATION CLIENT privilege).",
        value=0.0 if status.replica_problem else 1.0,
    )
    yield readable
    if status.replica_problem:
        return
    replica = status.replica
    yield GaugeMetricFamily(
        "atrium_db_replica",
        "1 when the database server is an asynchronous replica, else 0.",
        value=float(replica is not None),
    )
    if replica is None:
        return
    running = GaugeMetricFamily(
        "atrium_db_replica_running", "1 when the replica's thread (io, sql) is running.", labels=["thread"]
    )
    for thread in ("io", "sql"):
        running.add_metric([thread], 1 if str(replica.get(f"{thread}_running", "")).upper() == "YES" else 0)
    yield running
    behind = replica.get("seconds_behind")
    if isinstance(behind, int | float) or (isinstance(behind, str) and behind.isdigit()):
        yield GaugeMetricFamily(
            "atrium_db_replica_lag_seconds", "Seconds_Behind_Master of the replica.", value=float(behind)
        )


GALERA_GAUGES = (
    ("atrium_galera_cluster_size", "wsrep_cluster_size", "Nodes in the Galera cluster, as the node Atrium uses sees."),
    ("atrium_galera_cluster_primary", "wsrep_cluster_status", "1 when the node is in the Primary component."),
    ("atrium_galera_ready", "wsrep_ready", "1 when the node accepts queries (wsrep_ready=ON)."),
    ("atrium_galera_connected", "wsrep_connected", "1 when the node is connected to the cluster."),
    ("atrium_galera_local_state", "wsrep_local_state", "The node's state: 4 = Synced, 2 = Donor, 1 = Joining…"),
    ("atrium_galera_local_recv_queue", "wsrep_local_recv_queue", "Write-sets waiting to be applied on the node."),
    (
        "atrium_galera_flow_control_paused_ratio",
        "wsrep_flow_control_paused",
        "Fraction of time replication was paused by flow control since the last FLUSH STATUS.",
    ),
)
GALERA_COUNTERS = (
    ("atrium_galera_flow_control_sent", "wsrep_flow_control_sent", "Flow-control pause requests the node sent."),
    ("atrium_galera_flow_control_recv", "wsrep_flow_control_recv", "Flow-control pause requests the node received."),
)


def _galera(status: Any) -> Iterator[Any]:
    yield GaugeMetricFamily(
        "atrium_galera_enabled",
        "1 when the database is a Galera node (wsrep_on=ON), else 0.",
        value=float(status.galera_enabled),
    )
    if not status.galera_enabled:
        return

    def number(name: str) -> float | None:
        if name == "wsrep_cluster_status":
            value = status.status.get(name)
            return None if value is None else float(value == "Primary")
        return status.number(name)

    yield from _gauges(number, GALERA_GAUGES)
    for metric, name, documentation in GALERA_COUNTERS:
        value = status.number(name)
        if value is not None:
            yield CounterMetricFamily(metric, documentation, value=value)
    paused_ns = status.number("wsrep_flow_control_paused_ns")
    if paused_ns is not None:
        yield CounterMetricFamily(
            "atrium_galera_flow_control_paused_seconds",
            "Time replication was paused by flow control.",
            value=paused_ns / 1e9,
        )


class BackupCollector(Collector):
    """atrium_backup_last_verified_timestamp_seconds (0: never), atrium_backup_age_seconds (of the newest backup the
    last verification saw) and atrium_backup_verified_rows{table}, from the runs of monitoring.verify-backup."""

    def collect(self) -> Iterator[Any]:
        from jobs.models import JobRun, Outcome

        from .backups import JOB_NAME

        runs = JobRun.objects.filter(job=JOB_NAME).exclude(finished_at=None).order_by("-started_at", "-id")
        success = runs.filter(outcome=Outcome.SUCCESS).only("finished_at", "detail").first()
        yield GaugeMetricFamily(
            "atrium_backup_last_verified_timestamp_seconds",
            "Unix time the newest backup was last verified by restoring it (0: never).",
            value=success.finished_at.timestamp() if success is not None and success.finished_at else 0,
        )
        for run in runs.only("detail")[:5]:
            mtime = (run.detail or {}).get("backup", {}).get("mtime")
            if isinstance(mtime, int | float):
                yield GaugeMetricFamily(
                    "atrium_backup_age_seconds",
                    "Age of the newest backup file that the last verification found.",
                    value=max(0.0, timezone.now().timestamp() - mtime),
                )
                break
        rows = GaugeMetricFamily(
            "atrium_backup_verified_rows", "Rows of each key table in the last verified backup.", labels=["table"]
        )
        for table, counts in sorted(((success.detail or {}) if success else {}).get("tables", {}).items()):
            rows.add_metric([table], counts.get("backup", 0))
        yield rows


TABLE_COLLECTORS: list[Collector] = [
    JobRunCollector(),
    SecurityEventCollector(),
    BackupCollector(),
    DatabaseCollector(),
]
