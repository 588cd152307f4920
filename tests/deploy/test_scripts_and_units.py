"""deploy/: shellcheck on every shell script, systemd-analyze on the units, and the Galera check script's answers."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .conftest import DEPLOY, need_tool


def shell_scripts() -> list[Path]:
    """Every *.sh in deploy/, and every file there whose first line is a bash/sh shebang."""
    found = set(DEPLOY.rglob("*.sh"))
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".html", ".json"):
            first = path.read_bytes()[:40]
            if first.startswith((b"#!/bin/sh", b"#!/bin/bash", b"#!/usr/bin/env bash", b"#!/usr/bin/env sh")):
                found.add(path)
    return sorted(found)


def test_there_are_shell_scripts() -> None:
    names = {path.name for path in shell_scripts()}
    assert {"galera-check.sh", "render-node-cnf.sh", "create-environment.sh"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_shellcheck(script: Path) -> None:
    shellcheck = need_tool("shellcheck")
    result = subprocess.run(
        [shellcheck, "--severity=style", "--external-sources", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert script.stat().st_mode & stat.S_IXUSR, f"{script} should be executable"


UNITS = {
    "atrium-web@.service": "atrium-web@8001.service",
    "atrium-web.target": "atrium-web.target",
    "atrium-job@.service": "atrium-job@accounts.sync-directory.service",
    "atrium-job@.timer": "atrium-job@accounts.sync-directory.timer",
    "galera-check.socket": "galera-check.socket",
    "galera-check@.service": "galera-check@0.service",
}


def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` with the application's binaries replaced by /bin/true (they are not installed here)."""
    analyze = need_tool("systemd-analyze")
    sources = {path.name: path for path in [*DEPLOY.glob("systemd/*"), *DEPLOY.glob("haproxy/*@.service")]}
    sources["galera-check.socket"] = DEPLOY / "haproxy" / "galera-check.socket"
    instances = []
    for template, instance in UNITS.items():
        text = sources[template].read_text(encoding="utf-8")
        for binary in ("/srv/atrium/venv/bin/gunicorn", "/srv/atrium/venv/bin/python", "/usr/local/bin/galera-check"):
            text = text.replace(binary, "/bin/true")
        (tmp_path / template).write_text(text, encoding="utf-8")
        if instance != template:
            (tmp_path / instance).write_text(text, encoding="utf-8")
        instances.append(instance)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *instances], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == "", output  # unknown keys and bad values are only warnings: none allowed


def test_web_unit_has_limits_hardening_and_graceful_reload() -> None:
    text = (DEPLOY / "systemd" / "atrium-web@.service").read_text(encoding="utf-8")
    for line in (
        "EnvironmentFile=/etc/atrium/atrium.env",
        "Environment=ATRIUM_ROLE=web",
        "Environment=GUNICORN_BIND=127.0.0.1:%i",
        "ExecReload=/bin/kill -s HUP $MAINPID",
        "LimitNOFILE=",
        "MemoryMax=",
        "TasksMax=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
    ):
        assert line in text, line


def load_gunicorn_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT", "RUNTIME_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, object] = {}
    exec(compile((DEPLOY / "gunicorn" / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    return namespace


def test_gunicorn_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_gunicorn_config(monkeypatch, GUNICORN_BIND="127.0.0.1:8002")
    assert config["bind"] == "127.0.0.1:8002"
    assert config["worker_class"] == "sync"
    assert config["preload_app"] is False  # HUP must load new code
    assert int(config["timeout"]) < 35  # type: ignore[call-overload]  # below nginx's proxy_read_timeout
    assert config["control_socket_disable"] is True  # no shared ~/.gunicorn socket outside systemd
    under_systemd = load_gunicorn_config(monkeypatch, RUNTIME_DIRECTORY="/run/atrium/web-8002")
    assert under_systemd["control_socket"] == "/run/atrium/web-8002/gunicorn.ctl"  # one per instance


def test_gunicorn_serves_with_the_shipped_config(tmp_path: Path) -> None:
    """A real gunicorn with deploy/gunicorn/gunicorn.conf.py answers /-/health/live (from the repository root)."""
    from tests.harness.servers import free_port, stop_process, wait_for_port

    port = free_port()
    root = DEPLOY.parent
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "DATABASE_URL", "REDIS_URL", "RUNTIME_"))
    }
    env |= {
        "ATRIUM_ENV": "test",
        "ATRIUM_READ_DOT_ENV": "false",
        "ATRIUM_VAR_DIR": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_WORKER_TMP_DIR": str(tmp_path),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(gunicorn), "-c", str(DEPLOY / "gunicorn" / "gunicorn.conf.py")],
            cwd=root,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    try:
        wait_for_port(port, 30, process, log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health/live", timeout=10) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"status": "live"}
    finally:
        stop_process(process)
    assert "Control socket" not in log.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------------------------
# galera-check.sh answers, with a stand-in `mariadb` client
# ---------------------------------------------------------------------------------------------------------------
FAKE_CLIENT = """#!/bin/sh
# Stand-in for the mariadb client: prints "name value" for the SHOW GLOBAL … LIKE 'name' it was given.
for arg; do query=$arg; done
case $query in
  *wsrep_local_state*) [ -n "$STATE" ] && printf 'wsrep_local_state\\t%s\\n' "$STATE" ;;
  *wsrep_ready*) [ -n "$STATE" ] && printf 'wsrep_ready\\t%s\\n' "${READY:-ON}" ;;
  *wsrep_cluster_status*) [ -n "$STATE" ] && printf 'wsrep_cluster_status\\t%s\\n' "${STATUS:-Primary}" ;;
  *read_only*) printf 'read_only\\t%s\\n' "${READ_ONLY:-OFF}" ;;
esac
exit 0
"""


def run_check(tmp_path: Path, **env: str) -> str:
    client = tmp_path / "mariadb"
    client.write_text(FAKE_CLIENT, encoding="utf-8")
    client.chmod(0o755)
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(DEPLOY / "haproxy" / "galera-check.sh")],
        input=b"GET / HTTP/1.1\r\nHost: db1\r\n\r\n",
        capture_output=True,
        env={"PATH": os.environ["PATH"], "GALERA_CHECK_MYSQL": str(client), **env},
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()  # bytes: keep the CRLF line ends as sent


def test_galera_check_synced_node_is_up(tmp_path: Path) -> None:
    answer = run_check(tmp_path, STATE="4")
    assert answer.startswith("HTTP/1.1 200 OK\r\n")
    head, body = answer.split("\r\n\r\n", 1)
    assert f"Content-Length: {len(body)}" in head
    assert "Synced" in body


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"STATE": "2"}, "wsrep_local_state=2"),  # donor
        ({"STATE": "1"}, "wsrep_local_state=1"),  # joining
        ({"STATE": "4", "STATUS": "non-Primary"}, "cluster_status=non-Primary"),
        ({"STATE": "4", "READY": "OFF"}, "wsrep_ready=OFF"),
        ({"STATE": ""}, "does not answer"),
        ({"STATE": "4", "READ_ONLY": "ON", "AVAILABLE_WHEN_READONLY": "0"}, "read-only"),
    ],
)
def test_galera_check_other_states_are_down(tmp_path: Path, env: dict[str, str], reason: str) -> None:
    answer = run_check(tmp_path, **env)
    assert answer.startswith("HTTP/1.1 503 Service Unavailable\r\n"), answer
    assert reason in answer


def test_galera_check_donor_allowed_when_configured(tmp_path: Path) -> None:
    assert run_check(tmp_path, STATE="2", AVAILABLE_WHEN_DONOR="1").startswith("HTTP/1.1 200 OK")


# ---------------------------------------------------------------------------------------------------------------
# HAProxy
# ---------------------------------------------------------------------------------------------------------------
def test_haproxy_config_is_valid() -> None:
    haproxy = need_tool("haproxy")
    result = subprocess.run(
        [haproxy, "-c", "-f", str(DEPLOY / "haproxy" / "haproxy.cfg")], capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Configuration file is valid" in output
    assert "[WARNING]" not in output, output


def test_haproxy_has_one_writer_and_galera_aware_checks() -> None:
    text = (DEPLOY / "haproxy" / "haproxy.cfg").read_text(encoding="utf-8")
    servers = [line.split() for line in text.splitlines() if line.strip().startswith("server db")]
    assert len(servers) == 3
    assert ["backup" in s for s in servers] == [False, True, True]  # one active writer, two backups
    assert "on-marked-down shutdown-sessions" in text
    assert "port 9200" in text
    assert "http-check expect status 200" in text
    assert "stats uri" in text
