"""OIDC single sign-on against a real OpenID Connect provider (tests/idp, django-oauth-toolkit in a subprocess).

Atrium runs under pytest-django's live server so the IdP can send the browser back to it; the "browser" is a
`requests.Session` that follows redirects and fills in the IdP's sign-in form. Covered: code + PKCE sign-in,
group mirroring, MFA step-up for a section that requires it, sign-out at the IdP, silent renewal, and the
failures (IdP down or slow, forged state, an error answer), which must end on the sign-in page, never a 500.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core.exceptions import SuspiciousOperation
from django.test import Client, override_settings

from accounts import oidc
from accounts.models import DirectorySource, MirroredGroup, SecurityEvent
from tests.harness import oidc_provider as harness
from tests.harness.oidc_provider import IDP_PASSWORD, OIDCProvider, rp_settings

oidc_provider = harness.oidc_provider  # the module-scoped fixture that runs the test IdP

OIDC_BACKEND = "accounts.oidc.AtriumOIDCBackend"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FAILED = "/accounts/login/?sso=failed"
User = get_user_model()


def backends_with_oidc() -> list[str]:
    backends = list(settings.AUTHENTICATION_BACKENDS)
    if OIDC_BACKEND not in backends:
        backends.insert(backends.index("accounts.backends.BreakGlassBackend"), OIDC_BACKEND)
    return backends


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Browser:
    """A cookie-keeping HTTP client that signs in through the IdP like a browser would."""

    idp: OIDCProvider
    base: str
    http: requests.Session = field(default_factory=requests.Session)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        return self.http.get(url, timeout=15, **kwargs)

    def fill_in_idp_form(self, page: requests.Response, username: str, **kwargs: Any) -> requests.Response:
        """Submit the IdP's sign-in form shown on `page` (Django's LoginView) and follow the redirects."""
        assert page.url.startswith(f"{self.idp.url}/accounts/login/"), f"not the IdP's sign-in page: {page.url}"
        match = CSRF_FIELD.search(page.text)
        assert match, page.text
        form = {"csrfmiddlewaretoken": match.group(1), "username": username, "password": IDP_PASSWORD}
        form["next"] = query(page.url)["next"]
        return self.http.post(page.url, data=form, timeout=15, **kwargs)

    def sign_in(self, username: str, next_url: str = "/") -> requests.Response:
        """The whole sign-in: Atrium → IdP sign-in form → IdP → Atrium's callback → `next_url`."""
        return self.fill_in_idp_form(self.get(f"/accounts/oidc/login/?{urlencode({'next': next_url})}"), username)

    def session(self) -> SessionStore:
        key = self.http.cookies.get(settings.SESSION_COOKIE_NAME)
        assert key, "no Atrium session cookie"
        return SessionStore(session_key=key)

    def csrf_token(self, page: str = "/") -> str:
        match = CSRF_FIELD.search(self.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)


@pytest.fixture
def browser(oidc_provider: OIDCProvider, transactional_db: Any, live_server: Any) -> Iterator[Browser]:
    """OIDC switched on against the test IdP, and a fresh browser (no cookies, at Atrium or at the IdP)."""
    with override_settings(**oidc_provider.rp_settings(), AUTHENTICATION_BACKENDS=backends_with_oidc()):
        client = Browser(oidc_provider, live_server.url)
        yield client
        client.http.close()


def events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type).order_by("id"))


# ---------------------------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------------------------
def test_sign_in_uses_the_code_flow_with_pkce_and_maps_the_claims(browser: Browser) -> None:
    start = browser.get("/accounts/oidc/login/?next=/", allow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{browser.idp.issuer}/authorize/?")
    params = query(authorize)
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert {"openid", "email", "profile"} <= set(params["scope"].split())
    assert params["redirect_uri"] == f"{browser.base}/accounts/oidc/callback/"
    assert params["state"] and params["nonce"]

    form = browser.get(authorize)
    page = browser.fill_in_idp_form(form, "fiona")

    assert page.status_code == 200 and page.url == f"{browser.base}/"
    assert any(r.url.startswith(f"{browser.base}/accounts/oidc/callback/?code=") for r in page.history)
    fiona = User.objects.get(username="fiona")
    assert (fiona.first_name, fiona.last_name, fiona.email) == ("Fiona", "Fischer", "fiona@example.com")
    assert fiona.source == DirectorySource.OIDC and not fiona.has_usable_password()
    session = browser.session()
    assert session["_auth_user_id"] == str(fiona.pk)
    assert session["atrium_auth_method"] == "oidc"
    assert "atrium_mfa" not in session  # a password alone at the IdP
    assert session["oidc_id_token"]
    [sign_in] = events("sign_in")
    assert (sign_in.username, sign_in.method) == ("fiona", "oidc")


def test_groups_come_from_the_claim_and_local_groups_are_kept(browser: Browser) -> None:
    fiona = User.objects.create_user("fiona", source=DirectorySource.OIDC)
    local = Group.objects.create(name="local-project-team")
    dropped = Group.objects.create(name="finance-managers")
    MirroredGroup.objects.create(group=dropped, source=DirectorySource.OIDC)  # the IdP used to report it
    fiona.groups.add(local, dropped)

    assert browser.sign_in("fiona").status_code == 200

    names = set(fiona.groups.values_list("name", flat=True))
    assert names == {"finance-editors", "finance-staff", "local-project-team"}
    mirrored = set(MirroredGroup.objects.filter(source="oidc").values_list("group__name", flat=True))
    assert mirrored == {"finance-editors", "finance-staff", "finance-managers"}
    assert not User.objects.get(username="fiona").is_superuser

    Browser(browser.idp, browser.base).sign_in("ada")
    ada = User.objects.get(username="ada")
    assert ada.is_superuser and ada.is_staff  # the admin group works as it does from the directory


def test_an_idp_account_cannot_take_over_a_local_account(browser: Browser) -> None:
    local = User.objects.create_superuser("breakglass", password="a-long-break-glass-password")

    page = browser.sign_in("breakglass")

    assert page.url == f"{browser.base}{FAILED}" and page.status_code == 200
    assert "Single sign-on did not complete" in page.text
    local.refresh_from_db()
    assert local.source == DirectorySource.LOCAL and local.check_password("a-long-break-glass-password")
    [event] = events("sso_error")
    assert "belongs to a local account" in event.reason and not event.success


# ---------------------------------------------------------------------------------------------------------------
# MFA
# ---------------------------------------------------------------------------------------------------------------
def test_a_section_that_requires_mfa_steps_up_at_the_idp(browser: Browser) -> None:
    from demo.services import load_demo
    from tenants.models import Section
    from tenants.services import save_section

    load_demo()
    finance = Section.objects.get(slug="finance")
    finance.require_mfa = True
    save_section(finance, actor=None, reason="test: MFA required")
    browser.sign_in("fiona")

    refused = browser.get("/finance/", allow_redirects=False)
    assert refused.status_code == 302
    assert refused.headers["Location"] == "/accounts/oidc/step-up/?next=%2Ffinance%2F"
    step_up = browser.get(refused.headers["Location"], allow_redirects=False)
    params = query(step_up.headers["Location"])
    assert step_up.headers["Location"].startswith(f"{browser.idp.issuer}/authorize/?")
    assert params["acr_values"] == "mfa" and params["prompt"] == "login"
    assert params["code_challenge"]

    form = browser.get(step_up.headers["Location"])  # prompt=login: the IdP asks again
    page = browser.fill_in_idp_form(form, "fiona")

    assert page.status_code == 200 and page.url == f"{browser.base}/finance/"
    assert "Month-end calendar" in page.text
    assert browser.session()["atrium_mfa"] == "idp"
    assert [e.method for e in events("mfa_passed")] == ["oidc"]
    assert browser.get("/finance/", allow_redirects=False).status_code == 200


def test_a_step_up_that_brings_no_mfa_does_not_loop(browser: Browser) -> None:
    from demo.services import load_demo
    from tenants.models import Section

    load_demo()
    Section.objects.filter(slug="finance").update(require_mfa=True)
    browser.sign_in("fiona")
    with override_settings(OIDC_MFA_REQUEST_ACR=""):  # the IdP is not asked for MFA, so it does not do it
        form = browser.get("/finance/")
        page = browser.fill_in_idp_form(form, "fiona")
    assert page.url == f"{browser.base}/" and "did not confirm a second factor" in page.text
    assert [e.reason for e in events("mfa_failed")] == ["IdP reported no MFA"]


# ---------------------------------------------------------------------------------------------------------------
# Sign-out and silent renewal
# ---------------------------------------------------------------------------------------------------------------
def test_sign_out_also_ends_the_session_at_the_idp(browser: Browser) -> None:
    browser.sign_in("fiona")
    atrium_session = browser.session()
    id_token = atrium_session["oidc_id_token"]

    response = browser.http.post(
        f"{browser.base}/accounts/logout/",
        data={"csrfmiddlewaretoken": browser.csrf_token()},
        allow_redirects=False,
        timeout=15,
    )

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{browser.idp.issuer}/logout/?")
    assert query(location) == {
        "id_token_hint": id_token,
        "client_id": browser.idp.client_id,
        "post_logout_redirect_uri": f"{browser.base}/",
    }
    assert not SessionStore().exists(atrium_session.session_key)  # the local session is gone already
    back = browser.get(location)
    assert back.url == f"{browser.base}/" and back.status_code == 200
    # The IdP session is gone too: signing in again needs the IdP's form.
    again = browser.get("/accounts/oidc/login/")
    assert again.url.startswith(f"{browser.idp.url}/accounts/login/")


def test_silent_renewal_before_the_id_token_expires(browser: Browser) -> None:
    browser.sign_in("fiona")
    session = browser.session()
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()

    page = browser.get("/")

    assert page.status_code == 200 and page.url == f"{browser.base}/"
    authorize = next(r for r in page.history if r.url.startswith(f"{browser.idp.issuer}/authorize/"))
    assert query(authorize.url)["prompt"] == "none"
    assert any(r.url.startswith(f"{browser.base}/accounts/oidc/callback/?code=") for r in page.history)
    renewed = browser.session()
    assert renewed.session_key == session.session_key  # the same session, renewed, not a new sign-in
    assert renewed["oidc_id_token_expiration"] > time.time() + 60
    assert renewed["_auth_user_id"] == str(User.objects.get(username="fiona").pk)
    assert len(events("sign_in")) == 1 and not events("sso_error")


def test_silent_renewal_after_the_idp_session_ended_signs_out_with_a_message(browser: Browser) -> None:
    browser.sign_in("fiona")
    session = browser.session()
    browser.get(f"{browser.idp.issuer}/logout/?{urlencode({'id_token_hint': session['oidc_id_token']})}")
    session["oidc_id_token_expiration"] = time.time() - 1
    session.save()

    page = browser.get("/")

    assert page.url == f"{browser.base}/accounts/login/?next=%2F" and page.status_code == 200
    assert "single sign-on session has ended" in page.text
    assert not SessionStore().exists(session.session_key)
    [expired] = events("session_expired")
    assert expired.reason == "IdP session ended (login_required)"


def test_renewal_leaves_sessions_that_did_not_use_oidc_alone(browser: Browser, sign_in: Any) -> None:
    fiona = sign_in("fiona")  # the mock directory's fiona, on the test client
    response = fiona.get("/")
    assert response.status_code == 200
    assert fiona.session["atrium_auth_method"] == "mock"


# ---------------------------------------------------------------------------------------------------------------
# Failures: never a 500, always the sign-in page's message and a security event
# ---------------------------------------------------------------------------------------------------------------
def _callback_location(browser: Browser, username: str = "fiona") -> str:
    """Sign in at the IdP but stop at its redirect to Atrium's callback; returns that callback URL."""
    form = browser.get("/accounts/oidc/login/")
    response = browser.fill_in_idp_form(form, username, allow_redirects=False)
    location = urljoin(response.url, response.headers["Location"])  # the IdP redirects to relative URLs
    while not location.startswith(f"{browser.base}/accounts/oidc/callback/"):
        response = browser.get(location, allow_redirects=False)
        location = urljoin(response.url, response.headers["Location"])
    return location


def test_a_forged_state_is_refused_and_recorded(browser: Browser) -> None:
    callback = _callback_location(browser)
    params = query(callback)
    forged = f"{browser.base}/accounts/oidc/callback/?{urlencode({**params, 'state': 'forged-by-an-attacker'})}"

    page = browser.get(forged)

    assert page.url == f"{browser.base}{FAILED}" and page.status_code == 200
    assert "Single sign-on did not complete" in page.text
    assert not User.objects.filter(username="fiona").exists()
    [event] = events("sso_error")
    assert (event.success, event.method) == (False, "oidc")
    assert event.reason == "unknown state (forged, replayed or expired)"
    assert event.path == "/accounts/oidc/callback/"


def test_an_error_answer_from_the_idp_is_refused_and_recorded(browser: Browser) -> None:
    start = browser.get("/accounts/oidc/login/", allow_redirects=False)
    state = query(start.headers["Location"])["state"]
    denied = {"error": "access_denied", "error_description": "The user cancelled", "state": state}

    page = browser.get(f"/accounts/oidc/callback/?{urlencode(denied)}")

    assert page.url == f"{browser.base}{FAILED}" and page.status_code == 200
    [event] = events("sso_error")
    assert event.reason == "the IdP answered access_denied: The user cancelled"
    assert state not in browser.session().get("oidc_states", {})  # used up: the answer cannot be replayed


def test_a_token_endpoint_that_does_not_answer_times_out_to_the_sign_in_page(db: Any) -> None:
    # A socket that accepts connections but never answers: the token request must give up after OIDC_TIMEOUT.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host, port = silent.getsockname()
        rp = rp_settings(issuer="http://127.0.0.1:9/o", client_id="atrium-test", client_secret="not-used")
        rp.update(OIDC_OP_TOKEN_ENDPOINT=f"http://{host}:{port}/token/", OIDC_TIMEOUT=1)
        with override_settings(**rp, AUTHENTICATION_BACKENDS=backends_with_oidc()):
            client = Client()
            state = query(client.get("/accounts/oidc/login/")["Location"])["state"]
            started = time.monotonic()
            response = client.get("/accounts/oidc/callback/", {"code": "a-code", "state": state})
    assert response.status_code == 302 and response["Location"] == FAILED
    assert time.monotonic() - started < 5
    [event] = events("sso_error")
    assert event.reason == "the IdP did not answer within 1 s"


def test_an_idp_that_is_down_gives_the_sign_in_page_not_a_500(browser: Browser) -> None:
    callback = _callback_location(browser)
    browser.idp.stop()
    try:
        page = browser.get(callback)
    finally:
        browser.idp.start()  # for any test that runs after this one
    assert page.url == f"{browser.base}{FAILED}" and page.status_code == 200
    assert "Single sign-on did not complete" in page.text
    [event] = events("sso_error")
    assert event.reason == "the IdP could not be reached"


# ---------------------------------------------------------------------------------------------------------------
# Switched off, and the claim rules
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/accounts/oidc/login/", "/accounts/oidc/callback/", "/accounts/oidc/step-up/"])
def test_the_oidc_pages_do_not_exist_while_oidc_is_off(db: Any, path: str) -> None:
    assert Client().get(path).status_code == 404


def test_a_misconfigured_oidc_fails_to_the_sign_in_page(db: Any) -> None:
    with override_settings(OIDC_ENABLED=True, OIDC_OP_AUTHORIZATION_ENDPOINT=""):
        response = Client().get("/accounts/oidc/login/")
    assert response["Location"] == FAILED
    reason = events("sso_error")[0].reason
    assert reason.startswith("OIDC is misconfigured: missing") and "OIDC_OP_AUTHORIZATION_ENDPOINT" in reason


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"groups": ["b", "a", "a", " c "]}, ("a", "b", "c")),
        ({"groups": "solo"}, ("solo",)),
        ({}, ()),
        ({"groups": [1, None, "", "x" * 151, "ok"]}, ("ok",)),
    ],
)
def test_group_claim_values(claims: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert oidc.group_names_from_claims(claims) == expected


@override_settings(OIDC_GROUPS_CLAIM="realm_access.roles")
def test_group_claim_can_be_a_nested_path() -> None:
    assert oidc.group_names_from_claims({"realm_access": {"roles": ["finance-staff"]}}) == ("finance-staff",)


def test_a_groups_overage_is_refused_rather_than_emptying_the_groups() -> None:
    with pytest.raises(SuspiciousOperation, match="overage"):
        oidc.group_names_from_claims({"_claim_names": {"groups": "src1"}, "_claim_sources": {}})


@pytest.mark.parametrize(
    ("payload", "mfa"),
    [
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": ["pwd", "otp"]}, True),
        ({"amr": "hwk"}, True),
        ({"amr": ["pwd"]}, False),
        ({"acr": "gold"}, True),
        ({"acr": "bronze"}, False),
        ({}, False),
    ],
)
@override_settings(OIDC_MFA_ACR_VALUES=["gold"])
def test_mfa_from_amr_or_acr(payload: dict[str, Any], mfa: bool) -> None:
    assert oidc.idp_did_mfa(payload) is mfa


@pytest.mark.parametrize(
    ("claims", "username"),
    [
        ({"preferred_username": "fiona", "sub": "42"}, "fiona"),
        ({"sub": "42"}, "42"),
        ({"preferred_username": "x" * 151, "sub": "42"}, ""),
        ({"preferred_username": "  ", "sub": ""}, ""),
    ],
)
def test_username_from_preferred_username_else_sub(claims: dict[str, Any], username: str) -> None:
    assert oidc.username_from_claims(claims) == username
