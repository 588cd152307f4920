"""A smoke run of `make run`'s dev defaults: migrate, load the demo, serve it, sign in and browse.

Everything runs in subprocesses with the environment `make run` gets on a fresh machine: ATRIUM_ENV unset (dev),
no DATABASE_URL (SQLite under a temporary ATRIUM_VAR_DIR), no REDIS_URL (local-memory cache), the mock directory.
The browsing uses only the standard library (urllib.request with a cookie jar).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.servers import ServerUnavailable, free_port, wait_for_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
SECTIONS = ("finance", "hr", "engineering")
DEMO_USER, DEMO_PASSWORD = "fiona", "atrium-demo"


def dev_environment(var_dir: Path) -> dict[str, str]:
    """A minimal copy of os.environ: no DATABASE_URL, REDIS_URL, ATRIUM_* or DJANGO_SETTINGS_MODULE."""
    environment = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    environment["ATRIUM_VAR_DIR"] = str(var_dir)
    return environment


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} failed ({result.returncode})\n{result.stdout}\n{result.stderr}"
    )
    return result


@dataclass
class Response:
    status: int
    url: str
    text: str


@dataclass
class DevServer:
    """The running `manage.py runserver` and what the setup commands printed."""

    base_url: str
    first_load: str
    second_load: str
    opener: urllib.request.OpenerDirector

    def get(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Response:
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return Response(response.status, response.geturl(), response.read().decode("utf-8", errors="replace"))
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.geturl(), error.read().decode("utf-8", errors="replace"))

    def cookie(self, name: str) -> str:
        jar = next(h.cookiejar for h in self.opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
        return next((c.value or "" for c in jar if c.name == name), "")


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """Migrate, load the demo twice and serve it on a free port for the whole module; stopped at the end."""
    var_dir = tmp_path_factory.mktemp("dev-smoke") / "var"
    env = dev_environment(var_dir)
    manage("migrate", "--noinput", env=env)
    first_load = manage("load_demo", env=env).stdout
    second_load = manage("load_demo", env=env).stdout
    assert (var_dir / "atrium.sqlite3").is_file(), "the dev database should live under ATRIUM_VAR_DIR"

    port = free_port()
    log = var_dir / "runserver.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, TIMEOUT, server, log)
        except ServerUnavailable as exc:
            pytest.fail(f"runserver did not start: {exc}")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        yield DevServer(f"http://127.0.0.1:{port}", first_load, second_load, opener)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=5)


@pytest.fixture(scope="module")
def signed_in(dev_server: DevServer) -> Response:
    """Sign in as the demo user through the real form: CSRF token from the cookie, Referer set, redirect followed."""
    login_url = dev_server.base_url + "/accounts/login/"
    form = dev_server.get("/accounts/login/")
    assert form.status == 200, form.text[:2000]
    token = dev_server.cookie("atrium_csrftoken")
    assert token, "the sign-in page did not set the atrium_csrftoken cookie"
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": DEMO_USER, "password": DEMO_PASSWORD}
    ).encode()
    response = dev_server.get(
        "/accounts/login/",
        data=data,
        headers={"Referer": login_url, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200, response.text[:2000]
    assert response.url == dev_server.base_url + "/", f"sign-in did not redirect home: {response.url}"
    return response


def test_first_demo_load_creates_every_section(dev_server: DevServer) -> None:
    for slug in SECTIONS:
        assert f"{slug}: created" in dev_server.first_load, dev_server.first_load


def test_second_demo_load_changes_nothing(dev_server: DevServer) -> None:
    for slug in SECTIONS:
        assert f"{slug}: unchanged" in dev_server.second_load, dev_server.second_load


def test_home_page_shows_the_dev_banner(dev_server: DevServer) -> None:
    response = dev_server.get("/")
    assert response.status == 200, response.text[:2000]
    assert "DEV environment" in response.text


def test_sign_in_page_is_served(dev_server: DevServer) -> None:
    response = dev_server.get("/accounts/login/")
    assert response.status == 200, response.text[:2000]
    assert 'name="csrfmiddlewaretoken"' in response.text
    assert 'name="password"' in response.text


def test_demo_user_signs_in(signed_in: Response) -> None:
    assert "Fiona Fischer" in signed_in.text, "the home page should name the signed-in user"
    assert "Sign out" in signed_in.text


def test_signed_in_user_sees_her_section(dev_server: DevServer, signed_in: Response) -> None:
    response = dev_server.get("/finance/")
    assert response.status == 200, response.text[:2000]
    assert "Finance" in response.text


def test_signed_in_user_is_refused_another_section(dev_server: DevServer, signed_in: Response) -> None:
    response = dev_server.get("/hr/")
    assert response.status == 403, f"/hr/ answered {response.status} for {DEMO_USER}"


def test_vendored_bootstrap_is_served_from_node_modules(dev_server: DevServer) -> None:
    response = dev_server.get("/static/vendor/bootstrap/css/bootstrap.min.css")
    assert response.status == 200, response.text[:2000]
    expected = (ROOT / "node_modules" / "bootstrap" / "dist" / "css" / "bootstrap.min.css").read_text(encoding="utf-8")
    assert response.text == expected
