"""A private three-node MariaDB Galera cluster on one machine, for the cluster tests (tests/ha).

Follows the "Galera, three nodes on one machine" recipe of SERVICES.md, with free ports instead of fixed ones:
each node gets its own my.cnf, data directory, socket, pid file and error log under one temporary directory, and
four ports (SQL, group communication, IST, SST). Node 1 is initialised with `mariadb-install-db` and bootstraps
the cluster (`--wsrep-new-cluster`); nodes 2 and 3 join one after the other and receive the data by rsync state
transfer. `start()` returns once every node reports `wsrep_ready=ON`, state `Synced` and a cluster size of 3, and
the user `atrium` (password `atrium`, all privileges, replicated by Galera) can sign in on every node over TCP.

Every node is stopped by its PID (SIGTERM, then SIGKILL if it hangs), and the directory is removed. When the
cluster cannot be started, `ServerUnavailable` carries the end of each node's logs; set ATRIUM_TEST_KEEP_GALERA=1
to keep the directory (configs, data, full logs) for a closer look.

Run as root, the nodes run as the `mysql` user (the directory is handed to it), as the recipe does: a root mariadbd
would start rsync's state-transfer daemon as root, which then drops to `nobody` and cannot write the joiner's data.

Needs the Debian packages `mariadb-server`, `galera-4` (for /usr/lib/galera/libgalera_smm.so) and `rsync` (the
state transfer). Nothing here depends on Django.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .servers import ServerUnavailable, find_binary, free_port, stop_process

GALERA_PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
CLUSTER_NAME = "atrium-test"


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that were free a moment ago."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class GaleraNode:
    """One mariadbd of the cluster: its files, its four ports, its process."""

    number: int
    directory: Path
    sql_port: int
    gcomm_port: int
    ist_port: int
    sst_port: int
    process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return f"n{self.number}"

    @property
    def socket(self) -> Path:
        return self.directory / "mysqld.sock"

    @property
    def config(self) -> Path:
        return self.directory / "my.cnf"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    @property
    def console_log(self) -> Path:
        """What mariadbd prints before its error log is open (a bad option, a missing directory)."""
        return self.directory / "console.log"

    def log_tail(self, characters: int = 3000) -> str:
        parts = [f"--- {self.name} ---"]
        for log in (self.console_log, self.error_log):
            if log.exists() and log.stat().st_size:
                parts.append(f"[{log.name}]\n" + log.read_text(errors="replace")[-characters:])
        return "\n".join(parts)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class GaleraCluster:
    """Three Galera nodes on 127.0.0.1, started and stopped together (see the module docstring)."""

    size: int = 3
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-galera-")))
    user: str = "atrium"
    password: str = "atrium"
    nodes: list[GaleraNode] = field(default_factory=list)
    started_in: float = 0.0

    def __post_init__(self) -> None:
        if not self.nodes:
            ports = free_ports(4 * self.size)
            for number in range(1, self.size + 1):
                sql, gcomm, ist, sst = ports[4 * (number - 1) : 4 * number]
                node_dir = self.directory / f"n{number}"
                self.nodes.append(GaleraNode(number, node_dir, sql, gcomm, ist, sst))

    # -------------------------------------------------------------------------------------------------------
    # Addresses
    # -------------------------------------------------------------------------------------------------------
    def node(self, number: int) -> GaleraNode:
        return self.nodes[number - 1]

    def url(self, number: int, database: str) -> str:
        """A DATABASE_URL for Django on node `number` (1-based)."""
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.node(number).sql_port}/{database}"

    def connect(self, number: int, database: str | None = None, **options: Any) -> Any:
        """A MySQLdb connection to node `number` as the `atrium` user, over TCP (autocommit on)."""
        import MySQLdb

        connection = MySQLdb.connect(
            host="127.0.0.1",
            port=self.node(number).sql_port,
            user=self.user,
            password=self.password,
            charset="utf8mb4",
            **({"database": database} if database else {}),
            **options,
        )
        connection.autocommit(True)
        return connection

    def log_tails(self, characters: int = 3000) -> str:
        return "\n".join(node.log_tail(characters) for node in self.nodes)

    # -------------------------------------------------------------------------------------------------------
    # Start and stop
    # -------------------------------------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> GaleraCluster:
        """Bootstrap node 1, join the others one by one, create the `atrium` user; fail with the logs."""
        began = time.monotonic()
        deadline = began + timeout
        try:
            if not GALERA_PROVIDER.exists():
                raise ServerUnavailable(f"{GALERA_PROVIDER} is missing: install the Debian package galera-4.")
            if shutil.which("rsync") is None:
                raise ServerUnavailable(
                    "rsync is missing (Galera's state transfer uses it): install the package rsync."
                )
            mariadbd = find_binary("mariadbd")
            install = find_binary("mariadb-install-db")
            for node in self.nodes:
                # Joiners need an (empty) data directory to receive the state transfer into.
                (node.directory / "data").mkdir(parents=True, exist_ok=True)
                node.config.write_text(self._config(node), encoding="utf-8")
            for name in self._run_as():
                for path in [self.directory, *self.directory.rglob("*")]:
                    shutil.chown(path, name, name)
            self._install(install)
            for node in self.nodes:
                bootstrap = ["--wsrep-new-cluster"] if node.number == 1 else []
                with node.console_log.open("ab") as console:
                    node.process = subprocess.Popen(
                        [mariadbd, f"--defaults-file={node.config}", *bootstrap],
                        stdout=console,
                        stderr=console,
                        start_new_session=True,
                    )
                # Joiners one at a time: the donor serves one rsync state transfer at a time.
                self._wait_until_synced(node, deadline)
            for node in self.nodes:
                self._wait_for_status(node, "wsrep_cluster_size", str(self.size), deadline)
            self._create_user(deadline)
        except BaseException as exc:
            logs = self.log_tails()
            self.stop()
            if os.environ.get("ATRIUM_TEST_KEEP_GALERA"):
                logs += f"\n(kept {self.directory} because ATRIUM_TEST_KEEP_GALERA is set)"
            else:
                shutil.rmtree(self.directory, ignore_errors=True)
            if isinstance(exc, ServerUnavailable):
                raise ServerUnavailable(f"{exc}\n{logs}") from exc
            if isinstance(exc, Exception):
                raise ServerUnavailable(f"the Galera cluster could not be started: {exc!r}\n{logs}") from exc
            raise
        self.started_in = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop the nodes one by one, the last joiner first (SIGTERM, SIGKILL after 20 s).

        One at a time, each node leaves a healthy cluster and shuts down in a fraction of a second; stopped all at
        once, they wait for each other for several seconds.
        """
        for node in reversed(self.nodes):
            stop_process(node.process)
            node.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -------------------------------------------------------------------------------------------------------
    # Failures and recovery of one node (the failover tests)
    # -------------------------------------------------------------------------------------------------------
    def kill(self, number: int) -> None:
        """`kill -9` node `number` (no shutdown: its data directory is left as a crash leaves it)."""
        node = self.node(number)
        if node.process is not None and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=10)

    def stop_node(self, number: int) -> None:
        """Stop node `number` cleanly (SIGTERM): it leaves the cluster and comes back by IST."""
        stop_process(self.node(number).process)

    def restart(self, number: int, timeout: float = 120.0) -> float:
        """Start node `number` again as systemd's mariadb.service does, and wait until it is Synced; seconds taken.

        After a crash, grastate.dat holds no position (seqno -1), so a plain start would ask for a full state
        transfer. Like `galera_recovery` (the unit's ExecStartPre), recover the last committed position from InnoDB
        first (`--wsrep-recover`) and start with `--wsrep-start-position`: a node back within the gcache window then
        catches up by IST, without blocking a donor as an rsync SST does.
        """
        node = self.node(number)
        if node.running():
            raise RuntimeError(f"Galera node {node.name} is running")
        began = time.monotonic()
        deadline = began + timeout
        mariadbd = find_binary("mariadbd")
        position = self._recover_position(mariadbd, node, deadline)
        start = [f"--wsrep-start-position={position}"] if position else []
        with node.console_log.open("ab") as console:
            node.process = subprocess.Popen(
                [mariadbd, f"--defaults-file={node.config}", *start],
                stdout=console,
                stderr=console,
                start_new_session=True,
            )
        try:
            self._wait_until_synced(node, deadline)
            for other in self.nodes:
                if other.running():
                    self._wait_for_status(other, "wsrep_cluster_size", str(self.size), deadline)
        except ServerUnavailable as exc:
            raise ServerUnavailable(f"{exc}\n{self.log_tails()}") from exc
        return time.monotonic() - began

    def _recover_position(self, mariadbd: str, node: GaleraNode, deadline: float) -> str:
        """The node's last committed `uuid:seqno`, read from InnoDB by `mariadbd --wsrep-recover` ("" if none)."""
        result = subprocess.run(
            [mariadbd, f"--defaults-file={node.config}", "--wsrep-recover", "--disable-log-error"],
            capture_output=True,
            text=True,
            timeout=max(5.0, deadline - time.monotonic()),
            check=False,
        )
        with node.console_log.open("a", encoding="utf-8") as console:
            console.write(result.stderr)
        if result.returncode != 0:
            raise ServerUnavailable(f"--wsrep-recover failed on {node.name}: {result.stderr[-2000:]}")
        found = re.search(r"WSREP: Recovered position: *(\S+)", result.stderr)
        return found.group(1) if found else ""

    def status_of(self, number: int, variable: str) -> str | None:
        """One `SHOW STATUS` value of node `number`, or None while it does not answer."""
        return self.status(self.node(number), variable)

    # -------------------------------------------------------------------------------------------------------
    # Internals
    # -------------------------------------------------------------------------------------------------------
    def _run_as(self) -> list[str]:
        # As root, run as `mysql` (the recipe's choice): rsync's state-transfer daemon, started by a root mariadbd,
        # would drop to `nobody` and could not write the joiner's data directory.
        return ["mysql"] if os.geteuid() == 0 else []

    def _config(self, node: GaleraNode) -> str:
        gcomm = ",".join(f"127.0.0.1:{other.gcomm_port}" for other in self.nodes)
        user = "".join(f"user={name}\n" for name in self._run_as())
        provider_options = ";".join(
            [
                "base_host=127.0.0.1",
                f"base_port={node.gcomm_port}",
                f"gmcast.listen_addr=tcp://127.0.0.1:{node.gcomm_port}",
                f"ist.recv_addr=127.0.0.1:{node.ist_port}",
                "gcache.size=64M",
            ]
        )
        return (
            "[mysqld]\n"
            f"{user}"
            f"datadir={node.directory / 'data'}\n"
            f"socket={node.socket}\n"
            f"pid-file={node.directory / 'mysqld.pid'}\n"
            f"log-error={node.error_log}\n"
            f"port={node.sql_port}\n"
            "bind-address=127.0.0.1\n"
            "skip-name-resolve\n"
            "binlog_format=ROW\n"
            "default_storage_engine=InnoDB\n"
            "innodb_autoinc_lock_mode=2\n"
            "innodb_buffer_pool_size=64M\n"
            # Small redo log: less for the rsync state transfer to copy to each joiner.
            "innodb_log_file_size=16M\n"
            "innodb_flush_log_at_trx_commit=0\n"
            "character-set-server=utf8mb4\n"
            "collation-server=utf8mb4_unicode_ci\n"
            "max_connections=200\n"
            "wsrep_on=ON\n"
            f"wsrep_provider={GALERA_PROVIDER}\n"
            f"wsrep_cluster_name={CLUSTER_NAME}\n"
            f"wsrep_cluster_address=gcomm://{gcomm}\n"
            f"wsrep_node_name={node.name}\n"
            "wsrep_node_address=127.0.0.1\n"
            f'wsrep_provider_options="{provider_options}"\n'
            f"wsrep_sst_receive_address=127.0.0.1:{node.sst_port}\n"
            "wsrep_sst_method=rsync\n"
        )

    def _install(self, install: str) -> None:
        first = self.node(1)
        run_as = [f"--user={name}" for name in self._run_as()]
        result = subprocess.run(
            [
                install,
                f"--defaults-file={first.config}",
                *run_as,
                "--skip-test-db",
                "--auth-root-authentication-method=socket",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"mariadb-install-db failed on n1: {result.stderr[-2000:]}")

    def _admin(self, node: GaleraNode) -> Any:
        """A connection as the database superuser over the node's socket (unix_socket authentication)."""
        import MySQLdb

        login = "root" if os.geteuid() == 0 else getpass.getuser()
        connection = MySQLdb.connect(unix_socket=str(node.socket), user=login, connect_timeout=2)
        connection.autocommit(True)
        return connection

    def status(self, node: GaleraNode, variable: str) -> str | None:
        """One `SHOW STATUS` value of a node, or None when it does not answer yet."""
        import MySQLdb

        try:
            connection = self._admin(node)
        except MySQLdb.Error:
            return None
        try:
            cursor = connection.cursor()
            cursor.execute("SHOW STATUS LIKE %s", (variable,))
            row = cursor.fetchone()
            return None if row is None else str(row[1])
        except MySQLdb.Error:
            return None
        finally:
            connection.close()

    def _wait_until_synced(self, node: GaleraNode, deadline: float) -> None:
        self._wait_for_status(node, "wsrep_ready", "ON", deadline)
        self._wait_for_status(node, "wsrep_local_state_comment", "Synced", deadline)

    def _wait_for_status(self, node: GaleraNode, variable: str, wanted: str, deadline: float) -> None:
        seen = None
        while time.monotonic() < deadline:
            if not node.running():
                raise ServerUnavailable(f"Galera node {node.name} exited (status {node.process.poll()})")  # type: ignore[union-attr]
            seen = self.status(node, variable)
            if seen == wanted:
                return
            time.sleep(0.1)
        raise ServerUnavailable(f"Galera node {node.name}: {variable} is {seen!r}, not {wanted!r}, at the deadline")

    def _create_user(self, deadline: float) -> None:
        """Create `atrium` on node 1 (Galera replicates account statements) and wait until every node takes it."""
        import MySQLdb

        connection = self._admin(self.node(1))
        try:
            cursor = connection.cursor()
            cursor.execute(f"CREATE USER IF NOT EXISTS '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}'")
            cursor.execute(f"GRANT ALL ON *.* TO '{self.user}'@'127.0.0.1' WITH GRANT OPTION")
        finally:
            connection.close()
        for node in self.nodes:
            while True:
                try:
                    self.connect(node.number, connect_timeout=2).close()
                    break
                except MySQLdb.Error as exc:
                    if time.monotonic() > deadline:
                        raise ServerUnavailable(f"user {self.user} cannot sign in on {node.name}: {exc}") from exc
                    time.sleep(0.1)
