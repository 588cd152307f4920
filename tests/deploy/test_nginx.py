"""deploy/nginx: `nginx -t` on the real configuration, then a private nginx in front of two stub upstreams.

The configuration is copied to a temporary directory with its absolute paths (certificates, static roots, the
maintenance flag, logs, snippets) and its listen ports replaced; every replacement must match, so a change to
the shipped file that the test no longer covers fails here instead of silently testing something else.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.harness.servers import free_port, wait_for_port

from .conftest import DEPLOY, need_tool

NGINX = DEPLOY / "nginx"
HOST = "atrium.example.com"


def _self_signed(directory: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True)
    (directory / "atrium.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "atrium.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _replace(text: str, old: str, new: str, where: str) -> str:
    assert old in text, f"{where} no longer contains {old!r}: update tests/deploy/test_nginx.py"
    return text.replace(old, new)


@dataclass
class Site:
    """A private nginx with the shipped configuration, and what it serves."""

    base: Path
    conf: Path
    http_port: int
    https_port: int
    upstream_ports: tuple[int, int]

    @property
    def flag(self) -> Path:
        return self.base / "var" / "maintenance.on"


def build_site(base: Path, upstream_ports: tuple[int, int]) -> Site:
    """Copy deploy/nginx into `base` with test paths and ports; write the wrapper nginx.conf."""
    http_port, https_port = free_port(), free_port()
    conf_dir = base / "conf"
    (conf_dir / "snippets").mkdir(parents=True)
    for folder in ("log", "var", "tmp", "srv/static/css", "srv/media", "srv/maintenance"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    _self_signed(base / "tls")

    common = {
        "/etc/nginx/snippets/atrium/": f"{conf_dir}/snippets/",
        "/etc/atrium/tls/": f"{base}/tls/",
        "/srv/atrium/": f"{base}/srv/",
        "/var/lib/atrium/": f"{base}/var/",
        "/var/log/nginx/": f"{base}/log/",
    }
    for snippet in sorted((NGINX / "snippets").glob("*.conf")):
        text = snippet.read_text(encoding="utf-8")
        for old, new in common.items():
            if old in text:
                text = text.replace(old, new)
        (conf_dir / "snippets" / snippet.name).write_text(text, encoding="utf-8")

    text = (NGINX / "atrium.conf").read_text(encoding="utf-8")
    for old, new in common.items():
        text = _replace(text, old, new, "atrium.conf")
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", "atrium.conf")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};", "atrium.conf")
    text = _replace(text, "server 127.0.0.1:8001 ", f"server 127.0.0.1:{upstream_ports[0]} ", "atrium.conf")
    text = _replace(text, "server 127.0.0.1:8002 ", f"server 127.0.0.1:{upstream_ports[1]} ", "atrium.conf")
    for path in ("/etc/atrium", "/srv/atrium", "/var/lib/atrium", "/etc/nginx/snippets"):
        assert path not in text, f"an absolute path {path} is left in the test copy"
    (conf_dir / "atrium.conf").write_text(text, encoding="utf-8")

    user = "user root root;\n" if os.geteuid() == 0 else ""
    tmp = base / "tmp"
    (conf_dir / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {base}/nginx.pid;\nerror_log {base}/log/error.log info;\n"
        "events { worker_connections 128; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        f"    access_log {base}/log/access.log;\n"
        f"    client_body_temp_path {tmp}/body;\n    proxy_temp_path {tmp}/proxy;\n"
        f"    fastcgi_temp_path {tmp}/fastcgi;\n    uwsgi_temp_path {tmp}/uwsgi;\n    scgi_temp_path {tmp}/scgi;\n"
        f"    include {conf_dir}/atrium.conf;\n"
        "}\n",
        encoding="utf-8",
    )
    # Files to serve.
    (base / "srv/static/css/app.0123456789ab.css").write_text("body{}", encoding="utf-8")
    (base / "srv/static/css/app.css").write_text("body{}", encoding="utf-8")
    (base / "srv/static/.secret").write_text("hidden", encoding="utf-8")
    (base / "srv/media/upload.txt").write_text("an upload", encoding="utf-8")
    (base / "srv/outside.txt").write_text("outside the static root", encoding="utf-8")
    (base / "srv/maintenance/maintenance.html").write_text(
        (NGINX / "maintenance.html").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return Site(base, conf_dir / "nginx.conf", http_port, https_port, upstream_ports)


def nginx_test(nginx: str, site: Site) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx, "-t", "-p", str(site.base), "-e", str(site.base / "log/error.log"), "-c", str(site.conf)],
        capture_output=True,
        text=True,
        check=False,
    )


class _Upstream(BaseHTTPRequestHandler):
    """A stand-in for gunicorn: answers with the request it saw, as JSON (or always 502 when `broken`)."""

    broken = False
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.broken:
            status, body = 502, b"bad gateway"
        else:
            status = 200
            body = json.dumps(
                {"method": self.command, "path": self.path, "port": self.server.server_address[1]}
                | {"headers": {k.lower(): v for k, v in self.headers.items()}}
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Broken(_Upstream):
    broken = True


@pytest.fixture
def upstreams() -> Iterator[tuple[int, int]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Upstream), ThreadingHTTPServer(("127.0.0.1", 0), _Broken)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield (servers[0].server_address[1], servers[1].server_address[1])
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(tmp_path: Path, upstreams: tuple[int, int]) -> Iterator[Site]:
    """A running private nginx: upstream 1 answers, upstream 2 always fails with 502."""
    nginx = need_tool("nginx")
    site = build_site(tmp_path, upstreams)
    checked = nginx_test(nginx, site)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [nginx, "-p", str(site.base), "-e", str(site.base / "log/error.log"), "-c", str(site.conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=10)  # nginx daemonizes: the parent exits once the master runs
        wait_for_port(site.https_port, 10, log=site.base / "log/error.log")
        yield site
    finally:
        pid_file = site.base / "nginx.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and pid_file.exists():
                time.sleep(0.05)


def request(
    site: Site, method: str, path: str, headers: dict[str, str] | None = None, *, tls: bool = True, body: str = ""
) -> tuple[int, dict[str, str], str, list[tuple[str, str]]]:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", site.https_port, timeout=10, context=context
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers={"Host": HOST, **(headers or {})})
        response = conn.getresponse()
        raw = response.getheaders()
        return response.status, {k.lower(): v for k, v in raw}, response.read().decode(errors="replace"), raw
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------
def test_nginx_t_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = need_tool("nginx")
    site = build_site(tmp_path, (free_port(), free_port()))
    result = nginx_test(nginx, site)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    assert "[warn]" not in result.stderr, result.stderr


def test_http_redirects_to_https(site: Site) -> None:
    status, headers, _, _ = request(site, "GET", "/some/page/?q=1", tls=False)
    assert status == 301
    assert headers["location"] == f"https://{HOST}/some/page/?q=1"


def test_proxied_request_carries_forwarding_headers_and_a_request_id(site: Site) -> None:
    status, _, body, _ = request(site, "GET", "/finance/")
    assert status == 200
    seen = json.loads(body)["headers"]
    assert seen["x-forwarded-proto"] == "https"
    assert seen["host"] == HOST
    assert re.fullmatch(r"[0-9a-f]{32}", seen["x-request-id"]), seen["x-request-id"]
    assert seen["x-forwarded-for"] == "127.0.0.1"  # the peer, no client-sent chain

    status, headers, body, _ = request(
        site, "GET", "/finance/", {"X-Request-ID": "f5-abcdef123456", "X-Forwarded-For": "198.51.100.7"}
    )
    seen = json.loads(body)["headers"]
    assert seen["x-request-id"] == "f5-abcdef123456"  # the F5's id is kept
    # The chain as the F5 sent it plus the F5's own address (not the rewritten client address twice).
    assert seen["x-forwarded-for"] == "198.51.100.7, 127.0.0.1"
    assert seen["x-real-ip"] == "198.51.100.7"
    assert "server" not in headers or "nginx/" not in headers["server"]  # server_tokens off


def test_idempotent_requests_are_retried_but_posts_are_not(site: Site) -> None:
    # Upstream 2 always answers 502. POSTs reaching it must fail (never sent twice); some do, round robin.
    post_statuses = [request(site, "POST", "/finance/form/", body="a=1")[0] for _ in range(4)]
    assert 502 in post_statuses
    assert set(post_statuses) <= {200, 502}
    # GETs that reach upstream 2 are passed on to upstream 1: every one succeeds.
    for _ in range(6):
        status, _, body, _ = request(site, "GET", "/finance/")
        assert status == 200
        assert json.loads(body)["port"] == site.upstream_ports[0]


def test_hashed_static_files_are_cached_for_a_year_with_security_headers(site: Site) -> None:
    status, headers, body, raw = request(site, "GET", "/static/css/app.0123456789ab.css")
    assert status == 200
    assert body == "body{}"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert [k for k, _ in raw if k.lower() == "cache-control"] == ["Cache-Control"]  # exactly one
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in headers  # the app owns the CSP

    status, headers, _, _ = request(site, "GET", "/static/css/app.css")
    assert status == 200
    assert headers["cache-control"] == "max-age=3600"


def test_no_listing_no_dotfiles_no_traversal(site: Site) -> None:
    assert request(site, "GET", "/static/")[0] in (403, 404)
    assert request(site, "GET", "/static/css/")[0] in (403, 404)
    assert request(site, "GET", "/static/.secret")[0] == 404
    assert request(site, "GET", "/.git/config")[0] == 404
    for path in (
        "/static../outside.txt",
        "/static/../outside.txt",
        "/static/%2e%2e/outside.txt",
        "/media../outside.txt",
    ):
        _, _, body, _ = request(site, "GET", path)
        assert "outside the static root" not in body, path


def test_media_is_served_sandboxed(site: Site) -> None:
    status, headers, body, _ = request(site, "GET", "/media/upload.txt")
    assert status == 200
    assert body == "an upload"
    assert "sandbox" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_metrics_only_from_monitoring_networks(site: Site) -> None:
    assert request(site, "GET", "/metrics")[0] == 200  # 127.0.0.1 is in the allowed list
    # A client outside the monitoring networks (its address comes from the trusted X-Forwarded-For).
    assert request(site, "GET", "/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 403


def test_sign_in_posts_are_rate_limited_per_client(site: Site) -> None:
    client = {"X-Forwarded-For": "192.0.2.44"}
    statuses = [request(site, "POST", "/accounts/login/", client, body="u=x")[0] for _ in range(10)]
    # The first and a burst of 5 pass (to an upstream: 200, or 502 from the broken one), then 429.
    assert 429 not in statuses[:6]
    assert statuses[6:] == [429] * 4
    # Showing the form is never limited, and another client is not affected.
    assert request(site, "GET", "/accounts/login/", client)[0] == 200
    assert request(site, "POST", "/accounts/login/", {"X-Forwarded-For": "192.0.2.45"}, body="u=y")[0] != 429


def test_maintenance_flag_serves_the_page_and_keeps_the_f5_member(site: Site) -> None:
    site.flag.touch()
    try:
        status, headers, body, _ = request(site, "GET", "/finance/")
        assert status == 503
        assert "planned maintenance" in body
        assert headers["retry-after"] == "300"
        status, _, body, _ = request(site, "POST", "/api/v1/things/", body="{}")
        assert status == 503
        assert "planned maintenance" in body
        status, headers, body, _ = request(site, "GET", "/-/health/ready")
        assert status == 200
        assert json.loads(body) == {"status": "ready", "maintenance": True}
        assert '"status": "ready"' in body  # the F5 monitor's receive string
        # Static files are still served.
        assert request(site, "GET", "/static/css/app.css")[0] == 200
    finally:
        site.flag.unlink()
    assert request(site, "GET", "/finance/")[0] == 200
    status, _, body, _ = request(site, "GET", "/-/health/ready")
    assert json.loads(body)["path"] == "/-/health/ready"  # proxied to gunicorn again
