"""The whole production shape on one machine, for the failover test (tests/ha/test_failover.py).

    client --TLS--> nginx (deploy/nginx/atrium.conf) --> web-a, web-b (gunicorn, deploy/gunicorn/gunicorn.conf.py,
        ATRIUM_ROLE=web) --> HAProxy (deploy/haproxy/haproxy.cfg) --> Galera n1 (writer) | n2, n3 (backups)
                                                  \\--> Redis (cache, sessions cache)
    job runners (`run_job`, ATRIUM_ROLE=jobs) --> HAProxy --> Galera

`HAStack(cluster).start()` starts everything but the Galera cluster (the session fixture's), on free ports, with
every file (configs, logs, pid files, sockets, certificates) under one temporary directory:

- **Galera checks**: production runs deploy/haproxy/galera-check.sh per connection through systemd socket
  activation on port 9200 of each node (galera-check.socket has `Accept=yes`: one script process per connection,
  the connection as its standard input and output). Here `CheckAgent` does exactly that on a free port per node: a
  small threaded TCP server that runs the *same script* with the accepted socket as stdin/stdout, pointed at the
  node's socket by a client option file (GALERA_CHECK_DEFAULTS_FILE), as the unit points it at
  /etc/atrium/galera-check.cnf. HAProxy's `option httpchk` therefore sees the real answers (200 only when the node
  is Synced, Primary and wsrep_ready), not a plain TCP or mysql-check.
- **HAProxy**: the real haproxy.cfg rendered for this machine (`render_haproxy`): the VIP and stats addresses become
  127.0.0.1 and free ports, db1..db3 the three nodes' SQL ports with `port <agent>` per server instead of the
  shared 9200, no chroot/user/group (not root-owned paths), the admin socket and the log in the temporary
  directory, run in the foreground (`-db`) so it is stopped by its PID. Every replacement must match, so a change
  to the shipped file that this no longer covers fails loudly instead of testing something else.
- **Redis**: `RedisServer` (tests/harness/servers.py); `stop_redis()`/`start_redis()` keep its port.
- **Database**: a fresh database created on node 1, then `manage.py migrate` and `manage.py load_demo` through
  HAProxy, as a deployment does.
- **Web instances**: two gunicorn processes with deploy/gunicorn/gunicorn.conf.py, as atrium-web@.service runs them
  (ATRIUM_ROLE=web, GUNICORN_BIND on a free port, 2 workers each; the access log in a file of its own instead of
  stdout, the only setting overridden). ATRIUM_ENV=test (uat/prod refuse to start
  without an LDAP directory, which the demo users do not need), with the deployed behaviour behind a TLS proxy
  switched on: BEHIND_TLS_PROXY, secure session and CSRF cookies. `kill_web()` is `kill -9` of the instance (the
  master and its workers, as systemd's KillMode=mixed finishes off the workers of a crashed master);
  `stop_web()` is `systemctl stop` (SIGTERM: stop accepting, finish requests in flight, exit), `start_web()` starts
  it again and waits until its /-/health/ready answers 200.
- **nginx**: deploy/nginx/atrium.conf rendered by tests/deploy/test_nginx.py's `build_site` (the same test copy that
  `nginx -t` validates: paths under the temporary directory, listen ports on 127.0.0.1, a self-signed
  certificate, the two gunicorn ports as the upstream), run as the current user with its own prefix.

The shipped files are run as they are, apart from the local addresses, ports and paths (every replacement
must match, so a change to deploy/ that the rendering no longer fits fails loudly).

`stop()` stops everything in reverse order, whatever state it is in;
`log_tails()` collects the end of every log for a failing test's report.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import io
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .galera import GaleraCluster
from .servers import RedisServer, ServerUnavailable, find_binary, free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GALERA_CHECK = DEPLOY / "haproxy" / "galera-check.sh"
HAPROXY_CFG = DEPLOY / "haproxy" / "haproxy.cfg"
GUNICORN_CONF = DEPLOY / "gunicorn" / "gunicorn.conf.py"
SECRET_KEY = "ha-test-" + "k" * 60  # the same on both instances, as /etc/atrium/atrium.env makes it


# ---------------------------------------------------------------------------------------------------------------
# Galera check agent: galera-check.sh behind a socket, one process per connection (systemd Accept=yes / xinetd)
# ---------------------------------------------------------------------------------------------------------------
class CheckAgent:
    """Runs deploy/haproxy/galera-check.sh once per TCP connection, the connection as its stdin and stdout."""

    def __init__(self, name: str, defaults_file: Path, log: Path) -> None:
        self.name = name
        self.defaults_file = defaults_file
        self.log = log
        self.server: socketserver.ThreadingTCPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> CheckAgent:
        agent = self
        bash = shutil.which("bash") or "/bin/bash"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GALERA_CHECK_DEFAULTS_FILE": str(self.defaults_file),
            "GALERA_CHECK_TIMEOUT": "2",
        }

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                connection: socket.socket = self.request
                with agent.log.open("ab") as log, contextlib.suppress(OSError, subprocess.TimeoutExpired):
                    subprocess.run(
                        [bash, str(GALERA_CHECK)],
                        stdin=connection.fileno(),
                        stdout=connection.fileno(),
                        stderr=log,
                        env=env,
                        timeout=15,  # the unit's RuntimeMaxSec
                        check=False,
                    )

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"check-{self.name}", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# ---------------------------------------------------------------------------------------------------------------
# Rendering the shipped configuration for this machine
# ---------------------------------------------------------------------------------------------------------------
def _replace(text: str, old: str, new: str, where: str) -> str:
    if old not in text:
        raise AssertionError(f"{where} no longer contains {old!r}: update tests/harness/ha_stack.py")
    return text.replace(old, new)


def render_haproxy(
    text: str,
    *,
    directory: Path,
    port: int,
    stats_port: int,
    servers: list[tuple[int, int]],
) -> str:
    """haproxy.cfg for 127.0.0.1: the VIP on `port`, db1..dbN on the (sql port, check port) pairs of `servers`."""
    where = "haproxy.cfg"
    for old, new in (
        ("    chroot /var/lib/haproxy\n", ""),
        ("    user haproxy\n", ""),
        ("    group haproxy\n", ""),
        ("    log /dev/log local0 info\n", "    log stdout format raw local0 info\n"),
        ("stats socket /run/haproxy/admin.sock ", f"stats socket {directory}/admin.sock "),
        ("    bind 10.1.2.10:3306\n", f"    bind 127.0.0.1:{port}\n"),
        ("    bind 10.1.2.10:8404\n", f"    bind 127.0.0.1:{stats_port}\n"),
    ):
        text = _replace(text, old, new, where)
    # One check agent per node here, so the port moves from default-server to each server line.
    text, found = re.subn(r"^(\s*default-server\b.*?) port 9200\b", r"\1", text, flags=re.MULTILINE)
    if found != 1:
        raise AssertionError(
            f"{where} no longer has one 'default-server … port 9200': update tests/harness/ha_stack.py"
        )
    for number, (sql_port, check_port) in enumerate(servers, start=1):
        pattern = re.compile(rf"^(\s*server db{number}) 10\.1\.2\.1{number}:3306 check", re.MULTILINE)
        if not pattern.search(text):
            raise AssertionError(f"{where} has no line 'server db{number} 10.1.2.1{number}:3306 check'")
        text = pattern.sub(rf"\1 127.0.0.1:{sql_port} check port {check_port}", text)
    leftover = re.findall(r"10\.1\.2\.\d+", text)
    assert not leftover, f"addresses left in the test copy of haproxy.cfg: {leftover}"
    return text


# ---------------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class WebInstance:
    """One gunicorn instance (atrium-web@PORT): its port, environment, log and process."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    config: Path = GUNICORN_CONF
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.log.with_name(f"{self.name}-access.log")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 90.0) -> float:
        """Start gunicorn and wait until /-/health/ready answers 200; seconds taken."""
        began = time.monotonic()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.starts += 1
        with self.log.open("ab") as output:
            output.write(f"\n===== start {self.starts} of {self.name} =====\n".encode())
            output.flush()
            self.process = subprocess.Popen(
                # The access log (stdout in the shipped config, for journald) goes to its own file here, so that
                # the instance's log keeps gunicorn's and Atrium's messages readable.
                [str(gunicorn), "--config", str(self.config), "--access-logfile", str(self.access_log)],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        self.wait_ready(began + timeout)
        return time.monotonic() - began

    def wait_ready(self, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            if not self.running():
                raise ServerUnavailable(f"{self.name} exited: {tail(self.log, 3000)}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/health/ready", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise ServerUnavailable(f"{self.name} not ready in time ({last}): {tail(self.log, 3000)}")

    def stop(self, timeout: float = 45.0) -> float:
        """`systemctl stop`: SIGTERM to the master (graceful: requests in flight finish); seconds taken."""
        began = time.monotonic()
        if self.running():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)  # the unit's TimeoutStopSec
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_workers()
        return time.monotonic() - began

    def kill(self) -> None:
        """`kill -9` of the whole instance (master and workers)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        self._reap_workers()

    def _reap_workers(self) -> None:
        # Workers left behind by a dead master (none normally): the process group still names them.
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)


def tail(path: Path, characters: int = 4000) -> str:
    if not path.exists():
        return f"({path.name}: missing)"
    return path.read_text(errors="replace")[-characters:]


@dataclass
class HAStack:
    """HAProxy, Redis, two web instances and nginx around a running GaleraCluster (see the module docstring)."""

    cluster: GaleraCluster
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-ha-stack-")))
    database: str = field(default_factory=lambda: f"atrium_ha_{uuid.uuid4().hex[:8]}")
    web_workers: int = 2
    agents: list[CheckAgent] = field(default_factory=list)
    haproxy: subprocess.Popen | None = None
    haproxy_port: int = 0
    haproxy_stats_port: int = 0
    redis: RedisServer | None = None
    webs: list[WebInstance] = field(default_factory=list)
    nginx_base: Path | None = None
    nginx_port: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    _database_created: bool = False

    # -----------------------------------------------------------------------------------------------------------
    # Addresses
    # -----------------------------------------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        """DATABASE_URL through HAProxy (the "VIP"), as every web instance and job server has it."""
        return f"mysql://{self.cluster.user}:{self.cluster.password}@127.0.0.1:{self.haproxy_port}/{self.database}"

    @property
    def url(self) -> str:
        """The site, through nginx (TLS)."""
        return f"https://127.0.0.1:{self.nginx_port}"

    @property
    def access_log(self) -> Path:
        assert self.nginx_base is not None
        return self.nginx_base / "log" / "atrium-access.log"

    def web(self, name: str) -> WebInstance:
        return next(web for web in self.webs if web.name == name)

    def base_env(self, role: str) -> dict[str, str]:
        """The environment of an Atrium process of this stack (what /etc/atrium/atrium.env would hold)."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST", "GUNICORN_", "DATABASE_", "REDIS_", "RUNTIME_", "DJANGO_"))
        }
        env.update(
            ATRIUM_ENV="test",
            ATRIUM_ROLE=role,
            ATRIUM_READ_DOT_ENV="false",
            ATRIUM_VAR_DIR=str(self.directory / "var"),
            DATABASE_URL=self.database_url,
            DJANGO_SETTINGS_MODULE="atrium.settings",
            SECRET_KEY=SECRET_KEY,
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
        return env

    # -----------------------------------------------------------------------------------------------------------
    # Start and stop
    # -----------------------------------------------------------------------------------------------------------
    def start(self) -> HAStack:
        try:
            self._timed("check agents + haproxy", self._start_haproxy)
            self._timed("redis", self._start_redis)
            self._timed("migrate + load_demo", self._prepare_database)
            self._timed("web instances", self._start_webs)
            self._timed("nginx", self._start_nginx)
        except BaseException as exc:
            logs = self.log_tails()
            self.cleanup()
            if isinstance(exc, ServerUnavailable):
                raise ServerUnavailable(f"{exc}\n{logs}") from exc
            if isinstance(exc, Exception):
                raise ServerUnavailable(f"the HA stack could not be started: {exc!r}\n{logs}") from exc
            raise
        return self

    def _timed(self, name: str, step: Callable[[], None]) -> None:
        began = time.monotonic()
        step()
        self.timings[name] = round(time.monotonic() - began, 1)

    def stop(self) -> None:
        """Stop everything this stack started (not the Galera cluster), newest first; never raises."""
        steps: list[Callable[[], None]] = [self._stop_nginx]
        steps += [web.kill if not web.running() else web.stop for web in self.webs]
        steps += [self._stop_redis, self._drop_database, self._stop_haproxy]
        steps += [agent.stop for agent in self.agents]
        for step in steps:
            try:
                step()
            except Exception as exc:
                print(f"ha stack: {getattr(step, '__name__', step)} failed while stopping: {exc!r}", file=sys.stderr)

    def cleanup(self) -> None:
        self.stop()
        if not os.environ.get("ATRIUM_TEST_KEEP_HA"):
            shutil.rmtree(self.directory, ignore_errors=True)

    # -- HAProxy and the check agents -------------------------------------------------------------------------
    def _start_haproxy(self) -> None:
        haproxy = find_binary("haproxy")
        login = "root" if os.geteuid() == 0 else getpass.getuser()
        directory = self.directory / "haproxy"
        directory.mkdir(parents=True, exist_ok=True)
        servers = []
        for node in self.cluster.nodes:
            defaults = directory / f"galera-check-{node.name}.cnf"
            defaults.write_text(f"[client]\nuser={login}\nsocket={node.socket}\n", encoding="utf-8")
            defaults.chmod(0o600)
            agent = CheckAgent(node.name, defaults, directory / f"galera-check-{node.name}.log").start()
            self.agents.append(agent)
            servers.append((node.sql_port, agent.port))
        self.haproxy_port, self.haproxy_stats_port = free_port(), free_port()
        config = directory / "haproxy.cfg"
        config.write_text(
            render_haproxy(
                HAPROXY_CFG.read_text(encoding="utf-8"),
                directory=directory,
                port=self.haproxy_port,
                stats_port=self.haproxy_stats_port,
                servers=servers,
            ),
            encoding="utf-8",
        )
        checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise ServerUnavailable(f"haproxy -c refused the test copy:\n{checked.stdout}{checked.stderr}")
        log = directory / "haproxy.log"
        with log.open("ab") as output:
            self.haproxy = subprocess.Popen(
                [haproxy, "-db", "-f", str(config), "-p", str(directory / "haproxy.pid")],
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        wait_for_port(self.haproxy_port, 15, self.haproxy, log)
        self.wait_for_backend(lambda states: states.get("db1") == "UP", "db1 UP", timeout=30)

    def haproxy_states(self) -> dict[str, str]:
        """Each Galera server's state as HAProxy's stats page has it (UP, DOWN, "DOWN 1/3", …); {} if no answer."""
        try:
            url = f"http://127.0.0.1:{self.haproxy_stats_port}/stats;csv"
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return {}
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row.get("pxname") == "galera-write"}

    def wait_for_backend(self, condition: Callable[[dict[str, str]], bool], what: str, timeout: float) -> float:
        began = time.monotonic()
        states: dict[str, str] = {}
        while time.monotonic() - began < timeout:
            states = self.haproxy_states()
            if condition(states):
                return time.monotonic() - began
            time.sleep(0.2)
        raise AssertionError(f"HAProxy: not {what} within {timeout} s: {states}")

    def _stop_haproxy(self) -> None:
        stop_process(self.haproxy, timeout=10)

    # -- Redis ---------------------------------------------------------------------------------------------------
    def _start_redis(self) -> None:
        self.redis = RedisServer(directory=self.directory / "redis")
        self.redis.directory.mkdir(parents=True, exist_ok=True)
        self.redis.start()

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()

    def start_redis(self) -> None:
        assert self.redis is not None
        self.redis.start()

    def _stop_redis(self) -> None:
        if self.redis is not None:
            self.redis.stop()

    # -- Database ------------------------------------------------------------------------------------------------
    def manage(self, *args: str, role: str = "all", timeout: float = 300) -> str:
        """`manage.py ARGS` against the cluster through HAProxy; its output (fails with both streams)."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.base_env(role),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _prepare_database(self) -> None:
        admin = self.cluster.connect(1)
        try:
            admin.cursor().execute(
                f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            self._database_created = True
        finally:
            admin.close()
        (self.directory / "var").mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_demo")

    def _drop_database(self) -> None:
        if not self._database_created:
            return
        for node in self.cluster.nodes:
            if node.running():
                admin = self.cluster.connect(node.number, connect_timeout=5)
                try:
                    admin.cursor().execute(f"DROP DATABASE IF EXISTS `{self.database}`")
                finally:
                    admin.close()
                self._database_created = False
                return

    def query(self, node: int, sql: str, *params: object) -> list[tuple]:
        """Rows from Galera node `node` directly (not through HAProxy), after it applied all it has received."""
        connection = self.cluster.connect(node, self.database, connect_timeout=5)
        try:
            cursor = connection.cursor()
            cursor.execute("SET SESSION wsrep_sync_wait = 1")
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            connection.close()

    # -- Web instances -------------------------------------------------------------------------------------------
    def _start_webs(self) -> None:
        config = self.directory / "gunicorn.conf.py"
        config.write_text(GUNICORN_CONF.read_text(encoding="utf-8"), encoding="utf-8")
        for name in ("web-a", "web-b"):
            port = free_port()
            env = self.base_env("web")
            tmp = self.directory / name
            tmp.mkdir(parents=True, exist_ok=True)
            env.update(
                GUNICORN_BIND=f"127.0.0.1:{port}",
                GUNICORN_WORKERS=str(self.web_workers),
                GUNICORN_WORKER_TMP_DIR=str(tmp),
                # Deployed behaviour behind nginx's TLS (uat/prod defaults; ATRIUM_ENV=test leaves them off).
                BEHIND_TLS_PROXY="true",
                SESSION_COOKIE_SECURE="true",
                CSRF_COOKIE_SECURE="true",
            )
            self.webs.append(WebInstance(name, port, env, self.directory / f"{name}.log", config))
        # The site's address (nginx's port) is known before nginx starts: the sign-in form's CSRF check trusts it
        # (in production the site is on 443 and its host name is the trusted origin).
        self.nginx_port = free_port()
        for web in self.webs:
            web.env["CSRF_TRUSTED_ORIGINS"] = f"https://127.0.0.1:{self.nginx_port}"
        # One after the other: two Django start-ups at once on two cores take longer than in turn.
        for web in self.webs:
            web.start()

    def start_web(self, name: str, timeout: float = 90.0) -> float:
        return self.web(name).start(timeout)

    def stop_web(self, name: str) -> float:
        return self.web(name).stop()

    def kill_web(self, name: str) -> None:
        self.web(name).kill()

    # -- nginx ---------------------------------------------------------------------------------------------------
    def _start_nginx(self) -> None:
        from tests.deploy.test_nginx import build_site, nginx_test

        nginx = find_binary("nginx")
        base = self.directory / "nginx"
        site = build_site(base, (self.webs[0].port, self.webs[1].port))
        config = site.conf.parent / "atrium.conf"
        text = config.read_text(encoding="utf-8")
        text = _replace(
            text, f"listen 127.0.0.1:{site.https_port} ssl", f"listen 127.0.0.1:{self.nginx_port} ssl", "atrium.conf"
        )
        config.write_text(text, encoding="utf-8")
        # More connections than the validation test's 128: each request holds two (client and upstream).
        wrapper = site.conf.read_text(encoding="utf-8")
        site.conf.write_text(_replace(wrapper, "worker_connections 128;", "worker_connections 1024;", "nginx.conf"))
        checked = nginx_test(nginx, site)
        if checked.returncode != 0:
            raise ServerUnavailable(f"nginx -t refused the test copy:\n{checked.stderr}")
        subprocess.run(
            [nginx, "-p", str(base), "-e", str(base / "log/error.log"), "-c", str(site.conf)],
            capture_output=True,
            timeout=15,
            check=True,
        )
        self.nginx_base = base
        wait_for_port(self.nginx_port, 15, log=base / "log" / "error.log")

    def _stop_nginx(self) -> None:
        if self.nginx_base is None:
            return
        pid_file = self.nginx_base / "nginx.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and pid_file.exists():
            time.sleep(0.05)
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def access_log_entries(self) -> list[dict[str, Any]]:
        """nginx's JSON access log lines (one per request through nginx, with the upstream(s) tried)."""
        if self.nginx_base is None or not self.access_log.exists():
            return []
        entries = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return entries

    # -----------------------------------------------------------------------------------------------------------
    # Diagnostics
    # -----------------------------------------------------------------------------------------------------------
    def log_tails(self, characters: int = 3000) -> str:
        parts = []
        if self.nginx_base is not None:
            parts.append(f"--- nginx error.log ---\n{tail(self.nginx_base / 'log' / 'error.log', characters)}")
            parts.append(f"--- nginx atrium-error.log ---\n{tail(self.nginx_base / 'log' / 'atrium-error.log')}")
        parts.append(f"--- haproxy.log ---\n{tail(self.directory / 'haproxy' / 'haproxy.log', characters)}")
        parts += [f"--- {web.name}.log ---\n{tail(web.log, characters)}" for web in self.webs]
        if self.redis is not None:
            parts.append(f"--- redis.log ---\n{tail(self.redis.directory / 'redis.log', 1000)}")
        return "\n".join(parts)
