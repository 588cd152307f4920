"""Benchmark harness: a real database built with migrate, gunicorn with two sync workers, and wrk as the client."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.servers import free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BenchServer:
    url: str
    env: dict[str, str]


def bench_env(tmp: Path, database_name: str) -> dict[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    if database_url.startswith("mysql://"):
        env["DATABASE_URL"] = database_url.rsplit("/", 1)[0] + f"/{database_name}"
    env.update(
        ATRIUM_ENV="test",
        DEBUG="false",
        ATRIUM_VAR_DIR=str(tmp),
        DJANGO_SETTINGS_MODULE="tests.perf.bench_settings",
        ATRIUM_BENCH_TEMPLATES=str(tmp / "templates"),
        PYTHONPATH=f"{ROOT / 'platform'}:{ROOT}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    return env


def create_database(env: dict[str, str]) -> None:
    url = env.get("DATABASE_URL", "")
    if not url.startswith("mysql://"):
        return
    import MySQLdb

    match = re.match(r"mysql://([^:]+):([^@]+)@([^:/]+):(\d+)/(.+)", url)
    assert match, url
    user, password, host, port, name = match.groups()
    conn = MySQLdb.connect(host=host, port=int(port), user=user, password=password)
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def gunicorn_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Start gunicorn (2 sync workers) against a database prepared by the given setup script."""
    started: list[subprocess.Popen] = []

    def start(database_name: str, setup_script: str, extra_env: dict[str, str] | None = None) -> BenchServer:
        tmp = tmp_path_factory.mktemp(database_name)
        (tmp / "templates").mkdir()
        env = {**bench_env(tmp, database_name), **(extra_env or {})}
        create_database(env)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "shell", "-c", setup_script)
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "atrium.wsgi:application",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--pythonpath",
                f"{ROOT / 'platform'},{ROOT}",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        started.append(process)
        wait_for_port(port, 30, process)
        time.sleep(1.0)  # let both workers boot
        return BenchServer(url=f"http://127.0.0.1:{port}", env=env)

    yield start
    for process in started:
        stop_process(process)


def wrk_requests_per_second(url: str, *, cookie: str = "", seconds: int = 10, connections: int = 8) -> float:
    """Requests per second that wrk measured (2 threads, keep-alive), after a short warm-up run."""
    wrk = shutil.which("wrk")
    if wrk is None:
        pytest.fail("wrk is not installed (make bench installs it with apt)")
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    subprocess.run([wrk, "-t2", "-c4", "-d2s", *headers, url], capture_output=True, check=True)
    result = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Non-2xx" not in result.stdout, result.stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    assert match, result.stdout
    return float(match.group(1))
