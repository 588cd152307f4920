"""Start and stop private server instances (MariaDB, Redis) on free ports in temporary directories.

Each server binds to 127.0.0.1 only, keeps its files in its own temporary directory, and is stopped by its PID.
Nothing here depends on Django, so the pytest plugin can start the servers before Django's settings load.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """A server could not be started here (binary missing, or it did not come up)."""


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str:
    """The path of a server binary, looking in the sbin directories that a non-root PATH lacks."""
    path = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/usr/local/sbin", "/sbin") if (p := Path(d) / name).exists()), None
    )
    if not path:
        raise ServerUnavailable(f"{name} is not installed (make test installs it with apt when run as root).")
    return path


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Wait until something accepts connections on the port, or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise ServerUnavailable(f"nothing answered on 127.0.0.1:{port} within {timeout} s. {detail}")


@dataclass
class MariaDBServer:
    """A private mariadbd with a user `atrium` (password `atrium`) allowed to create test databases."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-mariadb-")))
    user: str = "atrium"
    password: str = "atrium"
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "mysqld.sock"

    @property
    def url(self) -> str:
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.port}/atrium"

    def start(self, timeout: float = 60.0) -> MariaDBServer:
        mariadbd = find_binary("mariadbd")
        install = find_binary("mariadb-install-db")
        data = self.directory / "data"
        run_as = ["--user=root"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [
                install,
                "--no-defaults",
                *run_as,
                f"--datadir={data}",
                "--skip-test-db",
                "--auth-root-authentication-method=socket",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"mariadb-install-db failed: {result.stderr[-2000:]}")
        log = self.directory / "error.log"
        self.process = subprocess.Popen(
            [
                mariadbd,
                "--no-defaults",
                *run_as,
                f"--datadir={data}",
                f"--socket={self.socket}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=128M",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-lock-wait-timeout=10",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--max-connections=300",
                f"--pid-file={self.directory / 'mysqld.pid'}",
                f"--log-error={log}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout, self.process, log)
        self._create_user()
        return self

    def _create_user(self) -> None:
        client = find_binary("mariadb")
        sql = (
            f"CREATE USER IF NOT EXISTS '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}';"
            f"GRANT ALL ON *.* TO '{self.user}'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
        )
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(
                [client, f"--socket={self.socket}", "-uroot", "-e", sql], capture_output=True, text=True, check=False
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ServerUnavailable(f"could not create the test user: {result.stderr}")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class RedisServer:
    """A private redis-server that keeps nothing on disk."""

    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-redis-")))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> RedisServer:
        binary = find_binary("redis-server")
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout, self.process, log)
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def stop_process(process: subprocess.Popen | None, timeout: float = 20.0) -> None:
    """SIGTERM, wait, then SIGKILL: a server that will not stop must not outlive the test run."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
