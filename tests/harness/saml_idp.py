"""A small but real SAML 2.0 identity provider (pysaml2) for the SSO tests, run as a subprocess on a free port.

`python -m tests.harness.saml_idp --port P --dir D --sp-metadata URL` serves:

- `/metadata`: the IdP's metadata (entity id = this URL);
- `/sso/redirect`, `/sso/post`: takes a signed AuthnRequest, shows a login form (username, password and, when the
  request asks for the MFA context, a one-time code), answers with a signed Response whose signed Assertion
  carries the user's attributes, a `groups` attribute and an AuthnContextClassRef: the MFA context when the
  request asked for it or the user is flagged as always using MFA, PasswordProtectedTransport otherwise;
- `/slo/redirect`, `/slo/post`: single logout (a signed LogoutRequest from the portal ends the IdP session and is
  answered with a signed LogoutResponse; `/-/logout?user=NAME` starts an IdP-initiated logout instead);
- for tests: `/-/events` (what happened, as JSON), `/-/groups?user=NAME&groups=a,b` (change a user's groups) and
  `/-/reset` (the initial users, no sessions, no events).

The server is threaded and reads the portal's metadata lazily, on the first SAML message, because the portal
fetches this IdP's metadata while serving its own requests: two servers that fetch each other's metadata while
each waits for the other would deadlock. `SamlIdentityProvider` starts and stops the subprocess for a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html
import json
import secrets
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .servers import ServerUnavailable, free_port, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]

# The MFA context this IdP issues (AD FS's, so the portal's default SAML_MFA_AUTHN_CONTEXTS accept it) and the
# one for a plain password sign-in.
MFA_CONTEXT = "http://schemas.microsoft.com/claims/multipleauthn"
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
# The one-time code the login form accepts when MFA is asked for.
ONE_TIME_CODE = "424242"
PASSWORD = "idp-secret"  # a throwaway password for the test IdP's users

# The IdP's users: attributes it asserts, and `mfa` for people who always sign in with a second factor.
USERS: dict[str, dict[str, Any]] = {
    "fiona": {
        "givenName": "Fiona",
        "sn": "Fischer",
        "mail": "fiona@example.com",
        "title": "Finance portal editor",
        "groups": ["finance-editors", "finance-staff"],
        "mfa": False,
    },
    # Has no second factor, and this IdP answers a request for MFA with a password sign-in all the same.
    "nina": {
        "givenName": "Nina",
        "sn": "Novak",
        "mail": "nina@example.com",
        "title": "Accountant",
        "groups": ["finance-staff"],
        "mfa": False,
        "ignores_mfa_requests": True,
    },
    "mia": {
        "givenName": "Mia",
        "sn": "Meyer",
        "mail": "mia@example.com",
        "title": "Controller",
        "groups": ["finance-staff"],
        "mfa": True,
    },
}


def generate_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway RSA key and self-signed certificate (PEM files `name`.key and `name`.crt), valid for a day."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


# ---------------------------------------------------------------------------------------------------------------
# The test side: start and stop the IdP subprocess
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class SamlIdentityProvider:
    """The IdP subprocess: `start()`, `metadata_url`, `events()`, and `stop()` (also after a failed start)."""

    sp_metadata_url: str
    port: int = field(default_factory=free_port)
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="atrium-saml-idp-")))
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def log(self) -> Path:
        return self.directory / "idp.log"

    def start(self, timeout: float = 20.0) -> SamlIdentityProvider:
        if not shutil.which("xmlsec1") and not Path("/usr/bin/xmlsec1").exists():
            raise ServerUnavailable("xmlsec1 is not installed (apt-get install xmlsec1).")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.harness.saml_idp",
                    f"--port={self.port}",
                    f"--dir={self.directory}",
                    f"--sp-metadata={self.sp_metadata_url}",
                ],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(self.metadata_url, timeout=1) as response,
            ):
                if response.status == 200:
                    return self
            time.sleep(0.1)
        raise ServerUnavailable(f"the SAML IdP did not answer on {self.metadata_url}. {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base_url}/-/events", timeout=5) as response:
            events: list[dict[str, Any]] = json.loads(response.read())
        return [e for e in events if kind is None or e["type"] == kind]

    def set_groups(self, username: str, groups: Iterable[str]) -> None:
        url = f"{self.base_url}/-/groups?" + urlencode({"user": username, "groups": ",".join(groups)})
        with urllib.request.urlopen(url, timeout=5):
            pass

    def reset(self) -> None:
        with urllib.request.urlopen(f"{self.base_url}/-/reset", timeout=5):
            pass

    def stop(self) -> None:
        stop_process(self.process, timeout=5)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------------
# The IdP itself (runs in the subprocess)
# ---------------------------------------------------------------------------------------------------------------
Response = tuple[str, list[tuple[str, str]], bytes]
COOKIE = "atrium_test_idp_session"  # its own name: cookies on 127.0.0.1 are shared by every port


class IdentityProvider:
    """The WSGI application: pysaml2's Server behind a login form, with in-memory sessions and an event log."""

    def __init__(self, base_url: str, directory: Path, sp_metadata_url: str) -> None:
        self.base_url = base_url
        self.sp_metadata_url = sp_metadata_url
        self.key_file, self.cert_file = generate_key_pair(directory, "idp")
        self.lock = threading.Lock()
        self._server: Any = None
        self.pending: dict[str, dict[str, Any]] = {}  # login ticket -> the AuthnRequest it answers
        self.sessions: dict[str, dict[str, Any]] = {}  # IdP session id -> user and how they signed in
        self.events: list[dict[str, Any]] = []
        self.users = {name: dict(attrs) for name, attrs in USERS.items()}

    # -- configuration ----------------------------------------------------------------------------------------
    def config(self, *, with_sp_metadata: bool) -> Any:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
        from saml2.config import IdPConfig
        from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_UNSPECIFIED

        conf = {
            "entityid": f"{self.base_url}/metadata",
            "xmlsec_binary": shutil.which("xmlsec1") or "/usr/bin/xmlsec1",
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "name": "Atrium test IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{self.base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                            (f"{self.base_url}/sso/post", BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [
                            (f"{self.base_url}/slo/redirect", BINDING_HTTP_REDIRECT),
                            (f"{self.base_url}/slo/post", BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_UNSPECIFIED],
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                    # Like AD FS for a relying party with a signing certificate: unsigned requests are refused.
                    "want_authn_requests_signed": True,
                    "sign_response": True,
                    "sign_assertion": True,
                }
            },
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
        }
        if with_sp_metadata:
            conf["metadata"] = {"remote": [{"url": self.sp_metadata_url}]}
        config = IdPConfig()
        config.load(conf)
        return config

    @property
    def server(self) -> Any:
        """pysaml2's IdP, created on first use: only then is the portal's metadata fetched (see the module doc)."""
        from saml2.server import Server

        with self.lock:
            if self._server is None:
                self._server = Server(config=self.config(with_sp_metadata=True))
            return self._server

    def metadata(self) -> bytes:
        from saml2.metadata import entity_descriptor

        return str(entity_descriptor(self.config(with_sp_metadata=False))).encode()

    # -- WSGI ---------------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        params = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode()
            params.update({k: v[-1] for k, v in parse_qs(body).items()})
        cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        session_id = cookies[COOKIE].value if COOKIE in cookies else ""
        try:
            status, headers, content = self.route(environ["PATH_INFO"], params, session_id)
        except Exception as exc:  # a test IdP reports its errors to the test instead of dying
            import traceback

            traceback.print_exc()
            status, headers, content = "400 Bad Request", [], f"IdP error: {exc!r}".encode()
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), *headers])
        return [content]

    def route(self, path: str, params: dict[str, str], session_id: str) -> Response:
        from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

        if path == "/metadata":
            return "200 OK", [("Content-Type", "application/samlmetadata+xml")], self.metadata()
        if path in ("/sso/redirect", "/sso/post"):
            binding = BINDING_HTTP_REDIRECT if path.endswith("redirect") else BINDING_HTTP_POST
            return self.single_sign_on(binding, params, session_id)
        if path == "/login":
            return self.login(params)
        if path in ("/slo/redirect", "/slo/post"):
            binding = BINDING_HTTP_REDIRECT if path.endswith("redirect") else BINDING_HTTP_POST
            return self.single_logout(binding, params)
        if path == "/-/logout":
            return self.idp_initiated_logout(params["user"])
        if path == "/-/events":
            with self.lock:
                return "200 OK", [("Content-Type", "application/json")], json.dumps(self.events).encode()
        if path == "/-/reset":  # a clean IdP for the next test: its users, no sessions, no events
            with self.lock:
                self.users = {name: dict(attrs) for name, attrs in USERS.items()}
                self.sessions.clear()
                self.pending.clear()
                self.events.clear()
            return "200 OK", [], b"ok"
        if path == "/-/groups":
            self.users[params["user"]]["groups"] = [g for g in params.get("groups", "").split(",") if g]
            return "200 OK", [], b"ok"
        return "404 Not Found", [], b"not found"

    def record(self, kind: str, **detail: Any) -> None:
        with self.lock:
            self.events.append({"type": kind, **detail})

    # -- sign-in ------------------------------------------------------------------------------------------------
    def single_sign_on(self, binding: str, params: dict[str, str], session_id: str) -> Response:
        request = self.server.parse_authn_request(
            params["SAMLRequest"],
            binding,
            relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg"),
            signature=params.get("Signature"),
        )
        message = request.message
        wanted = []
        if message.requested_authn_context is not None:
            wanted = [ref.text for ref in message.requested_authn_context.authn_context_class_ref]
        force = str(message.force_authn).lower() == "true"
        self.record(
            "authn_request",
            id=message.id,
            sp=message.issuer.text,
            force_authn=force,
            requested_contexts=wanted,
            signed=bool(params.get("Signature") or message.signature),
        )
        ticket = secrets.token_urlsafe(16)
        with self.lock:
            self.pending[ticket] = {"request": message, "relay_state": params.get("RelayState", ""), "wanted": wanted}
            session = self.sessions.get(session_id)
        # Single sign-on: an IdP session that already satisfies the request answers without a form.
        if session and not force and (not wanted or session["context"] in wanted):
            return self.answer(ticket, session["user"], session["context"], session_id)
        return self.login_form(ticket, mfa=MFA_CONTEXT in wanted)

    def login_form(self, ticket: str, *, mfa: bool, error: str = "") -> Response:
        code = '<label>One-time code <input name="otp" autocomplete="one-time-code"></label>' if mfa else ""
        page = f"""<!DOCTYPE html><html><body><h1>Test IdP sign-in</h1><p class="error">{html.escape(error)}</p>
<form method="post" action="{self.base_url}/login"><input type="hidden" name="ticket" value="{ticket}">
<label>Username <input name="username"></label> <label>Password <input name="password" type="password"></label>
{code}<button name="action" value="login">Sign in</button><button name="action" value="cancel">Cancel</button>
</form></body></html>"""
        return "200 OK", [], page.encode()

    def login(self, params: dict[str, str]) -> Response:
        from saml2.samlp import STATUS_AUTHN_FAILED, STATUS_NO_AUTHN_CONTEXT

        ticket = params.get("ticket", "")
        with self.lock:
            pending = self.pending.get(ticket)
        if pending is None:
            return "400 Bad Request", [], b"unknown or used login ticket"
        mfa_wanted = MFA_CONTEXT in pending["wanted"]
        if params.get("action") == "cancel":
            return self.answer_error(ticket, STATUS_AUTHN_FAILED, "The user cancelled the sign-in.")
        username = params.get("username", "")
        user = self.users.get(username)
        if user is None or params.get("password") != PASSWORD:
            return self.login_form(ticket, mfa=mfa_wanted, error="Wrong username or password.")
        did_mfa = bool(user["mfa"]) or (mfa_wanted and params.get("otp") == ONE_TIME_CODE)
        lax = bool(user.get("ignores_mfa_requests"))
        if mfa_wanted and not did_mfa and not lax:
            return self.login_form(ticket, mfa=True, error="Wrong one-time code.")
        context = MFA_CONTEXT if did_mfa else PASSWORD_CONTEXT
        if pending["wanted"] and context not in pending["wanted"] and not lax:
            return self.answer_error(ticket, STATUS_NO_AUTHN_CONTEXT, "Cannot satisfy the requested context.")
        session_id = secrets.token_urlsafe(16)
        with self.lock:
            self.sessions[session_id] = {"user": username, "context": context}
        return self.answer(ticket, username, context, session_id)

    def answer(self, ticket: str, username: str, context: str, session_id: str) -> Response:
        """The signed Response to the portal's ACS, as an auto-posting form (the HTTP-POST binding)."""
        from saml2 import BINDING_HTTP_POST

        with self.lock:
            pending = self.pending.pop(ticket)
        args = self.server.response_args(pending["request"], [BINDING_HTTP_POST])
        response = self.signed_response(
            username, context, args["in_response_to"], args["destination"], args["sp_entity_id"]
        )
        self.record("authn_response", user=username, context=context, groups=list(self.users[username]["groups"]))
        http = self.server.apply_binding(
            BINDING_HTTP_POST, response, args["destination"], pending["relay_state"], response=True
        )
        cookie = f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"
        return "200 OK", [("Set-Cookie", cookie)], http["data"].encode()

    def signed_response(
        self, username: str, context: str, in_response_to: str, destination: str, sp_entity_id: str
    ) -> str:
        """A Response (signed, with a signed Assertion) saying `username` signed in with `context`, as XML."""
        from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID

        user = self.users[username]
        identity = {
            "givenName": [user["givenName"]],
            "sn": [user["sn"]],
            "mail": [user["mail"]],
            "title": [user["title"]],
            "groups": list(user["groups"]),
        }
        response = self.server.create_authn_response(
            identity,
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            userid=username,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=username),
            authn={"class_ref": context, "authn_auth": f"{self.base_url}/metadata"},
            sign_response=True,
            sign_assertion=True,
        )
        return str(response)

    def answer_error(self, ticket: str, status: str, message: str) -> Response:
        from saml2 import BINDING_HTTP_POST

        with self.lock:
            pending = self.pending.pop(ticket)
        args = self.server.response_args(pending["request"], [BINDING_HTTP_POST])
        response = self.server.create_error_response(
            args["in_response_to"], args["destination"], (status, message), sign=True
        )
        self.record("error_response", status=status)
        http = self.server.apply_binding(
            BINDING_HTTP_POST, str(response), args["destination"], pending["relay_state"], response=True
        )
        return "200 OK", [], http["data"].encode()

    # -- single logout ------------------------------------------------------------------------------------------
    def single_logout(self, binding: str, params: dict[str, str]) -> Response:
        from saml2 import BINDING_HTTP_POST

        if "SAMLResponse" in params:  # the portal's answer to an IdP-initiated logout
            response = self.server.parse_logout_request_response(params["SAMLResponse"], binding)
            self.record("logout_response", status_ok=bool(response and response.status_ok()))
            return "200 OK", [], b"<p>Signed out everywhere.</p>"
        request = self.server.parse_logout_request(
            params["SAMLRequest"],
            binding,
            relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg"),
            signature=params.get("Signature"),
        )
        username = request.message.name_id.text
        with self.lock:
            ended = [sid for sid, session in self.sessions.items() if session["user"] == username]
            for sid in ended:
                del self.sessions[sid]
        self.record(
            "logout_request",
            user=username,
            sp=request.message.issuer.text,
            signed=bool(params.get("Signature") or request.message.signature),
            sessions_ended=len(ended),
        )
        response = self.server.create_logout_response(request.message, [BINDING_HTTP_POST], sign=True)
        destination = self.server.response_args(request.message, [BINDING_HTTP_POST])["destination"]
        http = self.server.apply_binding(
            BINDING_HTTP_POST, str(response), destination, params.get("RelayState", ""), response=True
        )
        return "200 OK", [], http["data"].encode()

    def idp_initiated_logout(self, username: str) -> Response:
        """A signed LogoutRequest to the portal, as an auto-posting form (what AD FS sends from its sign-out page)."""
        from saml2 import BINDING_HTTP_POST
        from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID

        server = self.server
        sp_entity_id = next(iter(server.metadata.service_providers()))
        destination = server.metadata.single_logout_service(sp_entity_id, BINDING_HTTP_POST, "spsso")[0]["location"]
        _, request = server.create_logout_request(
            destination,
            sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=username),
            sign=True,
        )
        self.record("idp_logout_request", user=username)
        http = server.apply_binding(BINDING_HTTP_POST, str(request), destination, "")
        return "200 OK", [], http["data"].encode()


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (see the module doc for why it must be threaded)."""

    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("idp: " + format % args + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--sp-metadata", required=True)
    args = parser.parse_args(argv)
    app = IdentityProvider(f"http://127.0.0.1:{args.port}", args.dir, args.sp_metadata)
    with make_server(
        "127.0.0.1", args.port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    ) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    main()
