"""A real OpenID Connect provider for the SSO tests: the project in tests/idp/, run with `runserver` in a subprocess.

`OIDCProvider` prepares a temporary directory (SQLite database, RSA signing key, log), creates the IdP's users and
Atrium's client application, starts the server on a free port and waits until its discovery document answers.
The `oidc_provider` fixture (bind it in a test module: `oidc_provider = harness.oidc_provider`) does that against
pytest-django's live server and stops it again, even when starting it failed. Under CI=true a provider that
cannot be started fails the test; elsewhere the test is skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .servers import ServerUnavailable, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
IDP_PASSWORD = "idp-password"  # the test IdP's users' password
# The IdP's people. fiona and frank match the demo's finance editor and viewer; ada is a platform admin;
# breakglass has the name of a local break-glass account in Atrium, which SSO must never take over.
IDP_USERS: dict[str, dict[str, Any]] = {
    "fiona": {"first_name": "Fiona", "last_name": "Fischer", "groups": ["finance-editors", "finance-staff"]},
    "frank": {"first_name": "Frank", "last_name": "Fowler", "groups": ["finance-staff"]},
    "ada": {"first_name": "Ada", "last_name": "Admin", "groups": ["atrium-admins"]},
    "breakglass": {"first_name": "Not", "last_name": "Local", "groups": ["atrium-admins"]},
}


@dataclass
class OIDCProvider:
    """One private test IdP: django-oauth-toolkit on 127.0.0.1, with Atrium registered as a confidential client."""

    redirect_uri: str
    post_logout_redirect_uri: str
    users: dict[str, dict[str, Any]] = field(default_factory=lambda: IDP_USERS)
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-idp-")))
    client_id: str = "atrium-test"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    process: subprocess.Popen[bytes] | None = None
    prepared: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    @property
    def log(self) -> Path:
        return self.directory / "idp.log"

    def _environment(self) -> dict[str, str]:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.idp.settings",
            "PYTHONPATH": str(ROOT),
            "ATRIUM_IDP_DATABASE": str(self.directory / "idp.sqlite3"),
            "ATRIUM_IDP_KEY_FILE": str(self.directory / "signing-key.pem"),
            "ATRIUM_IDP_ISSUER": self.issuer,
        }
        environment.pop("DATABASE_URL", None)  # Atrium's; the IdP has its own database
        return environment

    def _django_admin(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args]

    def prepare(self) -> None:
        """Signing key, database, users and Atrium's application (once; a restart reuses them)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.directory / "signing-key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        users = {name: {"password": IDP_PASSWORD, **spec} for name, spec in self.users.items()}
        result = subprocess.run(
            self._django_admin(
                "idp_setup",
                f"--users={json.dumps(users)}",
                f"--client-id={self.client_id}",
                f"--client-secret={self.client_secret}",
                f"--redirect-uri={self.redirect_uri}",
                f"--post-logout-redirect-uri={self.post_logout_redirect_uri}",
            ),
            cwd=ROOT,
            env=self._environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"the test IdP could not be set up: {result.stderr[-2000:]}")
        self.prepared = True

    def start(self, timeout: float = 30.0) -> OIDCProvider:
        if not self.prepared:
            self.prepare()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self._django_admin("runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"),
                cwd=ROOT,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop_process() ends it and nothing else
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            with contextlib.suppress(OSError), urllib.request.urlopen(discovery, timeout=1) as response:
                if response.status == 200:
                    return
            time.sleep(0.1)
        detail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise ServerUnavailable(f"the test IdP did not answer {discovery} within {timeout} s. {detail}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def rp_settings(self) -> dict[str, Any]:
        """Atrium's OIDC settings for this IdP (for override_settings)."""
        return rp_settings(issuer=self.issuer, client_id=self.client_id, client_secret=self.client_secret)


def rp_settings(*, issuer: str, client_id: str, client_secret: str) -> dict[str, Any]:
    """Atrium's OIDC settings for a django-oauth-toolkit IdP whose issuer is `issuer` (its endpoints' base)."""
    return {
        "OIDC_ENABLED": True,
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": client_secret,
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_OP_ISSUER": issuer,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{issuer}/authorize/",
        "OIDC_OP_TOKEN_ENDPOINT": f"{issuer}/token/",
        "OIDC_OP_USER_ENDPOINT": f"{issuer}/userinfo/",
        "OIDC_OP_JWKS_ENDPOINT": f"{issuer}/.well-known/jwks.json",
        "OIDC_OP_LOGOUT_ENDPOINT": f"{issuer}/logout/",
    }


@pytest.fixture(scope="module")
def oidc_provider(live_server: Any) -> Iterator[OIDCProvider]:
    """A running test IdP that knows Atrium's live server as its client (one per test module)."""
    from tests.conftest import need_server

    provider = OIDCProvider(
        redirect_uri=f"{live_server.url}/accounts/oidc/callback/",
        post_logout_redirect_uri=f"{live_server.url}/",
    )
    try:
        try:
            provider.start()
        except (ServerUnavailable, OSError, subprocess.SubprocessError) as exc:
            need_server(f"OIDC provider ({exc})", False)
        yield provider
    finally:
        provider.cleanup()
