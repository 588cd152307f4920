"""Backup verification: the newest nightly dump must exist, be recent, restore, and hold the rows of the key tables.

Steps (the job `monitoring.verify-backup` and `manage.py verify_backup`):
1. find the newest `*.sql.gz` or `*.sql` (by modification time) in BACKUP_DIR, or the file or directory given;
2. refuse it when it is older than BACKUP_MAX_AGE_HOURS;
3. restore it into the scratch database of BACKUP_SCRATCH_DATABASE_URL, dropped and created anew, by piping it to the
   `mariadb` (or `mysql`) client. Credentials go in a temporary option file readable only by this user, never on
   the command line (where `ps` shows them). The client runs with `--one-database`, and a dump made with
   `--databases` has its `USE`/`CREATE DATABASE` lines pointed at the scratch database, so no statement of the dump
   can reach another database;
4. count the rows of the key tables in the restored copy and in the live database; a key table missing from the
   backup fails the verification, one with fewer than BACKUP_MIN_ROW_RATIO of the live rows is a warning (the live
   tables have grown since the dump, so a small shortfall is normal);
5. drop the scratch database again (unless BACKUP_KEEP_SCRATCH).

The scratch database must never be the live one: a URL naming the live database's name is refused whatever its
host (behind HAProxy or a node address, one database hides behind several names), and so is a scratch server that
is a Galera node (a DROP DATABASE there would replicate to the whole cluster). Physical backups (mariabackup
directories) are not restored here: they need a server of their own.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import environ
from django.apps import apps
from django.conf import settings
from django.db import connection, connections

JOB_NAME = "monitoring.verify-backup"
BACKUP_PATTERNS = ("*.sql.gz", "*.sql")
# The tables whose rows say the configuration, its history and the run log are in the backup.
KEY_MODELS = (
    "tenants.Section",
    "tenants.HistoricalSection",
    "navigation.MenuItem",
    "navigation.HistoricalMenuItem",
    "reports.Dataset",
    "reports.ReportDefinition",
    "accounts.User",
    "accounts.SecurityEvent",
    "jobs.JobRun",
)
KEY_TABLES_EXTRA = ("django_migrations",)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_$]{1,64}$")
_USE = re.compile(rb"^USE `((?:[^`]|``)+)`;\s*$")
_CREATE_DATABASE = re.compile(rb"^CREATE DATABASE\b")
_DROP_DATABASE = re.compile(rb"^/\*!40000 DROP DATABASE\b|^DROP DATABASE\b")
_DUMP_COMPLETED = b"-- Dump completed"
_CHUNK = 1 << 20


class BackupProblem(Exception):
    """The backup is missing, too old, unreadable or does not restore, or the setup is unsafe; says which."""


@dataclass(frozen=True)
class Backup:
    path: Path
    mtime: float
    size: int

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.mtime)

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "mtime": self.mtime, "bytes": self.size}


@dataclass(frozen=True)
class TableCount:
    table: str
    backup: int
    live: int
    ratio: float  # the minimum backup/live ratio expected

    @property
    def short(self) -> bool:
        return self.live > 0 and self.backup < self.live * self.ratio


@dataclass
class Verification:
    """What a verification found so far: `detail` is recorded on the job run even when it fails half-way."""

    detail: dict[str, Any] = field(default_factory=dict)
    backup: Backup | None = None
    tables: list[TableCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def backup_rows(self) -> int:
        return sum(count.backup for count in self.tables)

    def summary(self) -> str:
        if self.backup is None:
            return "no backup verified"
        rows = ", ".join(f"{count.table} {count.backup}/{count.live}" for count in self.tables)
        text = (
            f"{self.backup.path.name} ({self.backup.size / 1e6:.1f} MB, {self.backup.age_seconds / 3600:.1f} h old) "
            f"restored; rows backup/live: {rows}"
        )
        return text + (f"; warnings: {'; '.join(self.warnings)}" if self.warnings else "")


# ---------------------------------------------------------------------------------------------------------------
# Finding the backup
# ---------------------------------------------------------------------------------------------------------------
def newest_backup(location: Path) -> Backup:
    """The file itself, or the newest dump in the directory."""
    if not location.exists():
        raise BackupProblem(f"The backup location {location} does not exist.")
    if location.is_file():
        candidates = [location]
    else:
        candidates = [path for pattern in BACKUP_PATTERNS for path in location.glob(pattern) if path.is_file()]
        if not candidates:
            raise BackupProblem(f"No backup (*.sql.gz or *.sql) in {location}.")
    newest = max(candidates, key=lambda path: path.stat().st_mtime)
    stat = newest.stat()
    return Backup(newest, stat.st_mtime, stat.st_size)


def check_age(backup: Backup, max_age_hours: float) -> None:
    hours = backup.age_seconds / 3600
    if hours > max_age_hours:
        raise BackupProblem(
            f"The newest backup, {backup.path}, is {hours:.1f} hours old (more than BACKUP_MAX_AGE_HOURS="
            f"{max_age_hours:g}): the nightly dump has not run or not written where expected."
        )


# ---------------------------------------------------------------------------------------------------------------
# The scratch database
# ---------------------------------------------------------------------------------------------------------------
def scratch_database(url: str) -> dict[str, Any]:
    """The scratch database's connection settings; refuses anything that could be the live database."""
    if not url:
        raise BackupProblem("BACKUP_SCRATCH_DATABASE_URL is not set: there is no scratch database to restore into.")
    scratch = environ.Env.db_url_config(url)
    if scratch["ENGINE"] != "django.db.backends.mysql":
        raise BackupProblem("BACKUP_SCRATCH_DATABASE_URL must be a mysql:// URL of a MariaDB server.")
    name = str(scratch.get("NAME") or "")
    if not _SAFE_NAME.match(name):
        raise BackupProblem(f"The scratch database name {name!r} must be letters, digits and underscores only.")
    live_names = {str(connection.settings_dict.get("NAME")), str(settings.DATABASES["default"].get("NAME"))}
    if name in live_names:
        raise BackupProblem(
            f"Refused: BACKUP_SCRATCH_DATABASE_URL names {name!r}, the live database's name. The verification drops "
            "and recreates its scratch database, so it must be a database of its own (a different name, ideally "
            "on a different server)."
        )
    return scratch


def _option_value(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@contextlib.contextmanager
def client_options(database: dict[str, Any]) -> Iterator[Path]:
    """A temporary option file (mode 0600, in a 0700 directory) with the client's credentials; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="atrium-backup-"))
    path = directory / "client.cnf"
    lines = ["[client]", "default-character-set=utf8mb4"]
    if database.get("USER"):
        lines.append(f"user={_option_value(database['USER'])}")
    if database.get("PASSWORD"):
        lines.append(f"password={_option_value(database['PASSWORD'])}")
    host = str(database.get("HOST") or "")
    if host.startswith("/"):
        lines.append(f"socket={_option_value(host)}")
    elif host:
        lines.append(f"host={_option_value(host)}")
        # Without a port the client would use 3306 even when the URL's server listens elsewhere.
        lines.append(f"port={int(database.get('PORT') or 3306)}")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def client_binary() -> str:
    configured = str(getattr(settings, "BACKUP_CLIENT", "") or "")
    found = shutil.which(configured) if configured else shutil.which("mariadb") or shutil.which("mysql")
    if not found:
        raise BackupProblem(
            f"The database client {configured or 'mariadb (or mysql)'} is not installed on this server "
            "(Debian package mariadb-client)."
        )
    return found


def client_error(stderr: str) -> str:
    """The client's ERROR lines (it also echoes the failed statement, which may be a megabyte of INSERT)."""
    errors = [line for line in stderr.splitlines() if line.startswith("ERROR")]
    return ("; ".join(errors) if errors else stderr.strip())[-1000:]


def run_client(options: Path, sql: str, *, database: str = "", timeout: float = 300) -> list[list[str]]:
    """Run statements with the client; the rows of the last result, tab-separated fields."""
    command = [client_binary(), f"--defaults-file={options}", "--batch", "--skip-column-names", "-e", sql]
    if database:
        command.append(database)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupProblem(f"The database client failed: {client_error(result.stderr)}")
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def recreate_scratch(options: Path, name: str) -> None:
    rows = run_client(options, "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")
    if any(len(row) > 1 and row[1].upper() == "ON" for row in rows):
        raise BackupProblem(
            "Refused: the scratch server is a Galera node (wsrep_on=ON). Restoring there would replicate the whole "
            "dump, and the DROP DATABASE, to the cluster: use a stand-alone MariaDB server for BACKUP_SCRATCH_*."
        )
    run_client(
        options,
        f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    )


def drop_scratch(options: Path, name: str) -> None:
    with contextlib.suppress(BackupProblem, subprocess.TimeoutExpired):
        run_client(options, f"DROP DATABASE IF EXISTS `{name}`")


# ---------------------------------------------------------------------------------------------------------------
# Restoring
# ---------------------------------------------------------------------------------------------------------------
def _open_dump(path: Path) -> gzip.GzipFile | io.BufferedReader:
    return gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb")


def dump_lines(path: Path, scratch: str, warnings: list[str]) -> Iterator[bytes]:
    """The dump's lines, with database switches pointed at the scratch database (see the module docstring)."""
    dumped: str | None = None
    last = b""
    try:
        with _open_dump(path) as dump:
            for line in dump:
                stripped = line.strip()
                if stripped:
                    last = stripped
                if _CREATE_DATABASE.match(stripped) or _DROP_DATABASE.match(stripped):
                    continue
                use = _USE.match(stripped)
                if use:
                    name = use.group(1).decode("utf-8", "replace")
                    if dumped is not None and name != dumped:
                        raise BackupProblem(
                            f"The dump holds more than one database ({dumped}, {name}…): dump the Atrium database "
                            "alone (mariadb-dump … DBNAME) to have it verified."
                        )
                    dumped = name
                    yield f"USE `{scratch}`;\n".encode()
                    continue
                yield line
    except (OSError, EOFError, zlib.error) as exc:
        raise BackupProblem(f"The backup file {path.name} is corrupt or unreadable: {exc}") from exc
    if not last.startswith(_DUMP_COMPLETED):
        warnings.append("no “Dump completed” line at its end: the dump may be truncated")


def restore(options: Path, backup: Backup, scratch: str, warnings: list[str]) -> None:
    """Pipe the dump into the client, connected to the scratch database only."""
    command = [client_binary(), f"--defaults-file={options}", "--batch", "--one-database", scratch]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors
        )
        assert process.stdin is not None
        try:
            with contextlib.suppress(BrokenPipeError):  # the client stopped at an error: its message is below
                _feed(process.stdin, dump_lines(backup.path, scratch, warnings))
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            returncode = process.wait()
        finally:
            if process.poll() is None:  # a failure or the job's timeout while feeding: never leave it running
                process.kill()
                process.wait()
        if returncode != 0:
            errors.seek(0)
            message = client_error(errors.read().decode("utf-8", "replace"))
            raise BackupProblem(f"The backup {backup.path.name} does not restore: {message or f'exit {returncode}'}")


def _feed(stdin: IO[bytes], lines: Iterable[bytes]) -> None:
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK:
            stdin.write(b"".join(buffer))
            buffer, size = [], 0
    if buffer:
        stdin.write(b"".join(buffer))


# ---------------------------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------------------------
def key_tables() -> list[str]:
    return [apps.get_model(label)._meta.db_table for label in KEY_MODELS] + list(KEY_TABLES_EXTRA)


def count_backup_rows(options: Path, scratch: str, tables: list[str]) -> dict[str, int]:
    present = {
        row[0]
        for row in run_client(
            # The name was checked against _SAFE_NAME (scratch_database); the client takes no bind parameters.
            options,
            f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{scratch}'",  # noqa: S608
        )
    }
    missing = [table for table in tables if table not in present]
    if missing:
        raise BackupProblem(f"The backup restored, but lacks key tables: {', '.join(missing)}.")
    # Table names come from the models' Meta, not from input.
    sql = " UNION ALL ".join(f"SELECT '{table}', COUNT(*) FROM `{table}`" for table in tables)  # noqa: S608
    return {row[0]: int(row[1]) for row in run_client(options, sql, database=scratch)}


def count_live_rows(tables: list[str]) -> dict[str, int]:
    """Exact counts on the live database (raw SQL: the section-scoped managers must not filter them)."""
    quote = connections["default"].ops.quote_name
    counts: dict[str, int] = {}
    with connections["default"].cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 - table names from the models
            counts[table] = int(cursor.fetchone()[0])
    return counts


# ---------------------------------------------------------------------------------------------------------------
# The whole verification
# ---------------------------------------------------------------------------------------------------------------
def verify(location: Path | None = None, verification: Verification | None = None) -> Verification:
    """Run steps 1-5 (module docstring); raises BackupProblem with the reason when the backup is not good."""
    result = verification if verification is not None else Verification()
    started = time.monotonic()
    if location is None:
        configured = str(getattr(settings, "BACKUP_DIR", "") or "")
        if not configured:
            raise BackupProblem("BACKUP_DIR is not set: Atrium does not know where the nightly backups are.")
        location = Path(configured)
    backup = newest_backup(location)
    result.backup = backup
    result.detail["backup"] = backup.as_json()
    check_age(backup, float(getattr(settings, "BACKUP_MAX_AGE_HOURS", 26)))
    scratch = scratch_database(str(getattr(settings, "BACKUP_SCRATCH_DATABASE_URL", "") or ""))
    name = str(scratch["NAME"])
    ratio = float(getattr(settings, "BACKUP_MIN_ROW_RATIO", 0.9))
    tables = key_tables()
    with client_options(scratch) as options:
        recreate_scratch(options, name)
        try:
            restore(options, backup, name, result.warnings)
            backup_counts = count_backup_rows(options, name, tables)
        finally:
            if not getattr(settings, "BACKUP_KEEP_SCRATCH", False):
                drop_scratch(options, name)
    live_counts = count_live_rows(tables)
    result.tables = [TableCount(table, backup_counts[table], live_counts[table], ratio) for table in tables]
    for count in result.tables:
        if count.short:
            result.warnings.append(
                f"{count.table} has {count.backup} rows in the backup but {count.live} live (less than {ratio:.0%})"
            )
    result.detail.update(
        {
            "tables": {count.table: {"backup": count.backup, "live": count.live} for count in result.tables},
            "warnings": result.warnings,
            "restore_seconds": round(time.monotonic() - started, 1),
        }
    )
    return result
