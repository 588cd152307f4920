"""Readiness checks: can this instance serve pages? Each check names its component and says what is wrong.

The F5 LTM monitor polls /-/health/ready every second from each member, so the whole report is kept for
HEALTH_CACHE_SECONDS in this process: at most one database round trip per second per worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from core.cache import uncounted

# What a Galera node must report to take traffic (the same rule HAProxy's check uses).
GALERA_EXPECTED = {
    "wsrep_ready": "ON",
    "wsrep_local_state_comment": "Synced",
    "wsrep_cluster_status": "Primary",
}


@dataclass(frozen=True)
class Check:
    """One component's state: ok, and when not, why; `required` ones make the instance not ready."""

    name: str
    ok: bool
    required: bool
    detail: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def database_cursor() -> Any:
    return connection.cursor()


def check_database() -> Check:
    try:
        with database_cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check("database", False, True, f"unreachable: {exc}")
    return Check("database", True, True, connection.vendor)


def check_galera() -> Check | None:
    """On MariaDB with wsrep: the node must be ready, Synced and in the Primary component. None elsewhere."""
    if connection.vendor != "mysql":
        return None
    try:
        with database_cursor() as cursor:
            cursor.execute("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")
            row = cursor.fetchone()
            if row is None or str(row[1]).upper() != "ON":
                return None  # a single MariaDB server (dev, CI) or MySQL: no cluster to check
            cursor.execute(
                "SHOW GLOBAL STATUS WHERE Variable_name IN "
                "('wsrep_ready', 'wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_cluster_size')"
            )
            status = {str(name): str(value) for name, value in cursor.fetchall()}
    except DatabaseError as exc:
        return Check("galera", False, True, f"status unreadable: {exc}")
    wrong = {name: status.get(name, "") for name, want in GALERA_EXPECTED.items() if status.get(name) != want}
    detail = ", ".join(f"{name}={value or 'missing'}" for name, value in wrong.items())
    return Check("galera", not wrong, True, detail or "Synced, Primary", status)


def check_cache() -> Check:
    """Redis is not required: the cache fails safe to the database (ADR 0005), so a down cache only degrades."""
    available = getattr(cache, "is_available", True)
    key = "atrium:health:probe"
    try:
        with uncounted():  # the probe's read must not count towards the hit ratio
            cache.set(key, "1", 5)
            ok = bool(available) and cache.get(key) == "1"
    except Exception as exc:  # noqa: BLE001 - any cache failure is "degraded", never an error page
        return Check("cache", False, False, f"unreachable: {exc}")
    return Check("cache", ok, False, "" if ok else "unreachable: serving from the database")


CHECKS: list[Callable[[], Check | None]] = [check_database, check_galera, check_cache]


@dataclass(frozen=True)
class Report:
    ready: bool
    checks: list[Check]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not ready",
            "failed": [c.name for c in self.checks if c.required and not c.ok],
            "degraded": [c.name for c in self.checks if not c.required and not c.ok],
            "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in self.checks},
        }


_lock = threading.Lock()
_cached: dict[str, tuple[float, Report]] = {}  # "report": (monotonic time computed, report)


def run_checks() -> Report:
    checks: list[Check] = []
    for run in CHECKS:
        if run is check_galera and checks and not checks[0].ok:
            continue  # no database, no cluster state to read: the database failure says it all
        check = run()
        if check is not None:
            checks.append(check)
    return Report(all(c.ok for c in checks if c.required), checks)


def readiness() -> Report:
    """The report, computed at most once per HEALTH_CACHE_SECONDS in this process."""
    ttl = float(getattr(settings, "HEALTH_CACHE_SECONDS", 1.0))
    with _lock:
        now = time.monotonic()
        kept = _cached.get("report")
        if kept is not None and now - kept[0] < ttl:
            return kept[1]
        report = run_checks()
        _cached["report"] = (now, report)
        return report


def forget() -> None:
    """Drop the cached report (tests, and after a failover drill)."""
    with _lock:
        _cached.clear()
