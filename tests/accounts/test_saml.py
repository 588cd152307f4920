"""SAML single sign-on against a real pysaml2 IdP (tests/harness/saml_idp.py), driven like a browser would.

Atrium runs under pytest-django's live server with the production configuration (`saml_config()`); the IdP runs
as a subprocess. Covered: sign-in through the IdP's form, attributes and groups, MFA step-up, refused responses
(tampered, unsigned, replayed, from another IdP, an IdP error) and single logout in both directions.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import DirectorySource, MirroredGroup, SecurityEvent, User
from accounts.saml import parse_post_form
from accounts.saml_config import (
    ACS_PATH,
    LOGOUT_SERVICE_PATH,
    LOGOUT_SERVICE_POST_PATH,
    load_sp_config,
    saml_config,
)
from tenants.models import Section
from tests.conftest import need_server
from tests.harness.saml_idp import (
    MFA_CONTEXT,
    ONE_TIME_CODE,
    PASSWORD,
    PASSWORD_CONTEXT,
    IdentityProvider,
    SamlIdentityProvider,
    generate_key_pair,
)
from tests.harness.servers import ServerUnavailable, free_port

SAML_BACKEND = "accounts.saml.AtriumSaml2Backend"
SAML_COOKIE = "atrium_saml_session"
DSIG = "http://www.w3.org/2000/09/xmldsig#"


@pytest.fixture(scope="module")
def sp_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Atrium's throwaway SAML key and certificate, made for this run (keys are never committed)."""
    return generate_key_pair(tmp_path_factory.mktemp("saml-sp"), "atrium-sp")


@pytest.fixture(scope="module")
def idp(live_server: Any) -> Iterator[SamlIdentityProvider]:
    """The IdP subprocess for this module; stopped even when it failed to start."""
    provider = SamlIdentityProvider(sp_metadata_url=f"{live_server.url}/accounts/saml2/metadata/")
    try:
        try:
            provider.start()
        except ServerUnavailable as exc:
            need_server(f"SAML identity provider ({exc})", False)
        yield provider
    finally:
        provider.stop()


@dataclass
class Sso:
    """The portal's and the IdP's addresses, and the steps a browser goes through between them."""

    portal: str
    idp: SamlIdentityProvider

    def start(self, http: requests.Session, path: str = "/accounts/saml2/login/?next=/") -> str:
        """Open a portal URL that leads to the IdP; return the IdP URL (carrying the AuthnRequest)."""
        response = http.get(self.portal + path, allow_redirects=False)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        if location.startswith("/"):  # a portal redirect first (e.g. section -> step-up)
            return self.start(http, location)
        assert location.startswith(f"{self.idp.base_url}/sso/redirect?"), location
        return location

    def at_idp(
        self, http: requests.Session, location: str, username: str, *, otp: str = "", action: str = "login"
    ) -> tuple[str, dict[str, str]]:
        """Sign in at the IdP's form (unless its session answers at once); return the form that posts to the ACS."""
        page = http.get(location)
        assert page.status_code == 200, page.text
        if "SAMLResponse" not in page.text:
            ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
            assert ticket, page.text
            data = {"ticket": ticket.group(1), "username": username, "password": PASSWORD, "otp": otp, "action": action}
            page = http.post(f"{self.idp.base_url}/login", data=data)
        target, fields = parse_post_form(page.text)
        assert "SAMLResponse" in fields, page.text
        assert target == self.portal + reverse("accounts:saml-acs")
        return target, fields

    def sign_in(
        self, http: requests.Session, username: str, *, path: str = "/accounts/saml2/login/?next=/", otp: str = ""
    ) -> requests.Response:
        """The whole round trip; returns the ACS's answer (not followed)."""
        target, fields = self.at_idp(http, self.start(http, path), username, otp=otp)
        return http.post(target, data=fields, allow_redirects=False)

    def signed_in_user(self, http: requests.Session) -> str:
        """Whom the portal session of this browser belongs to ("" for nobody), read from the session store."""
        key = http.cookies.get(settings.SESSION_COOKIE_NAME)
        session = Session.objects.filter(session_key=key).first() if key else None
        user_id = session.get_decoded().get("_auth_user_id") if session else None
        return User.objects.get(pk=user_id).username if user_id else ""

    def session_data(self, http: requests.Session) -> dict[str, Any]:
        data: dict[str, Any] = Session.objects.get(
            session_key=http.cookies.get(settings.SESSION_COOKIE_NAME)
        ).get_decoded()
        return data


@pytest.fixture
def sso(
    idp: SamlIdentityProvider, sp_keys: tuple[Path, Path], live_server: Any, transactional_db: Any
) -> Iterator[Sso]:
    """SAML switched on with the production configuration pointing at the test IdP, and the demo loaded."""
    from demo.services import load_demo

    key_file, cert_file = sp_keys
    config = saml_config(
        {
            "SAML_IDP_METADATA_URL": idp.metadata_url,
            "SAML_SP_ENTITY_ID": f"{live_server.url}/accounts/saml2/metadata/",
            "SAML_SP_BASE_URL": live_server.url,
            "SAML_SP_KEY_FILE": str(key_file),
            "SAML_SP_CERT_FILE": str(cert_file),
        }
    )
    backends = [b for b in settings.AUTHENTICATION_BACKENDS if b != SAML_BACKEND]
    backends.insert(backends.index("accounts.backends.BreakGlassBackend"), SAML_BACKEND)
    idp.reset()
    with override_settings(SAML_ENABLED=True, SAML_CONFIG=config, AUTHENTICATION_BACKENDS=backends):
        load_demo()
        yield Sso(live_server.url, idp)


def decoded_request(location: str) -> str:
    """The AuthnRequest XML of an HTTP-Redirect binding URL."""
    encoded = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    return zlib.decompress(base64.b64decode(encoded), -15).decode()


def sso_errors() -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type="sso_error", success=False).order_by("id"))


def assert_refused(response: requests.Response) -> None:
    """Refused the friendly way: the sign-in page's "SSO failed" message (or a 4xx), never a server error."""
    assert response.status_code < 500
    assert response.status_code in (400, 403) or response.headers["Location"] == "/accounts/login/?sso=failed"


# ---------------------------------------------------------------------------------------------------------------
# Configuration and metadata
# ---------------------------------------------------------------------------------------------------------------
def test_saml_config_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        saml_config({})
    message = str(error.value)
    for name in ("SAML_IDP_METADATA_URL", "SAML_SP_ENTITY_ID", "SAML_SP_BASE_URL", "SAML_SP_KEY_FILE"):
        assert name in message
    key, cert = generate_key_pair(tmp_path, "sp")
    values = {
        "SAML_IDP_METADATA_URL": "http://adfs.example.com/FederationMetadata/2007-06/FederationMetadata.xml",
        "SAML_SP_ENTITY_ID": "https://atrium.example.com/accounts/saml2/metadata/",
        "SAML_SP_BASE_URL": "http://atrium.example.com",
        "SAML_SP_KEY_FILE": str(key),
        "SAML_SP_CERT_FILE": str(cert),
    }
    with pytest.raises(ImproperlyConfigured, match="must use https in uat and prod"):
        saml_config(values, deployed=True)
    sp = saml_config(values)["service"]["sp"]
    assert sp["want_assertions_signed"] and not sp["allow_unsolicited"] and sp["authn_requests_signed"]


IDP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
 entityID="https://adfs.example.com/adfs/services/trust"><md:IDPSSODescriptor
 protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService
 Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://adfs.example.com/adfs/ls/"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""


def offline_values(sp_keys: tuple[Path, Path], **values: str) -> dict[str, str]:
    return {
        "SAML_SP_ENTITY_ID": "https://atrium.example.com/accounts/saml2/metadata/",
        "SAML_SP_BASE_URL": "https://atrium.example.com",
        "SAML_SP_KEY_FILE": str(sp_keys[0]),
        "SAML_SP_CERT_FILE": str(sp_keys[1]),
        **values,
    }


def test_an_unreachable_idp_is_a_friendly_failure(db: Any, sp_keys: tuple[Path, Path]) -> None:
    values = offline_values(sp_keys, SAML_IDP_METADATA_URL=f"http://127.0.0.1:{free_port()}/metadata")
    with override_settings(SAML_ENABLED=True, SAML_CONFIG=saml_config(values)):
        response = Client().get("/accounts/saml2/login/?next=/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=failed"
    assert "metadata could not be fetched" in SecurityEvent.objects.get(event_type="sso_error").reason


def test_the_idp_metadata_is_kept_when_a_refresh_fails(sp_keys: tuple[Path, Path], tmp_path: Path) -> None:
    metadata = tmp_path / "idp.xml"
    metadata.write_text(IDP_METADATA)
    config = saml_config(offline_values(sp_keys, SAML_IDP_METADATA_FILE=str(metadata)))
    with override_settings(SAML_CONFIG=config, SAML_IDP_METADATA_REFRESH_SECONDS=0):
        first = load_sp_config().metadata
        assert list(first.identity_providers()) == ["https://adfs.example.com/adfs/services/trust"]
        metadata.unlink()  # the IdP's metadata endpoint goes away: sign-in keeps the copy it has
        assert load_sp_config().metadata is first


def test_saml_urls_answer_404_while_saml_is_off(db: Any) -> None:
    client = Client()
    for name in ("saml-login", "saml-step-up", "saml-acs", "saml-metadata", "saml-logout", "saml-ls", "saml-ls-post"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 404, name


def test_metadata_describes_the_portal(sso: Sso) -> None:
    assert (reverse("accounts:saml-acs"), reverse("accounts:saml-ls"), reverse("accounts:saml-ls-post")) == (
        ACS_PATH,
        LOGOUT_SERVICE_PATH,
        LOGOUT_SERVICE_POST_PATH,
    )
    response = requests.get(f"{sso.portal}/accounts/saml2/metadata/", timeout=10)
    assert response.status_code == 200
    xml = response.text
    assert f'entityID="{sso.portal}/accounts/saml2/metadata/"' in xml
    assert f'Location="{sso.portal}{ACS_PATH}"' in xml and f'Location="{sso.portal}{LOGOUT_SERVICE_POST_PATH}"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert 'use="signing"' in xml and 'use="encryption"' in xml


# ---------------------------------------------------------------------------------------------------------------
# Sign-in, attributes and groups
# ---------------------------------------------------------------------------------------------------------------
def test_sign_in_through_the_idp_form(sso: Sso) -> None:
    http = requests.Session()
    assert 'href="/accounts/saml2/login/?next=' in http.get(f"{sso.portal}/accounts/login/").text
    location = sso.start(http, "/accounts/saml2/login/?next=/finance/")
    assert "<ns0:RequestedAuthnContext" not in decoded_request(location)
    target, fields = sso.at_idp(http, location, "fiona")
    assert fields["RelayState"] == "/finance/"
    response = http.post(target, data=fields, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/finance/"
    assert http.get(f"{sso.portal}/finance/", allow_redirects=False).status_code == 200

    fiona = User.objects.get(username="fiona")
    assert (fiona.source, fiona.first_name, fiona.last_name) == (DirectorySource.SAML, "Fiona", "Fischer")
    assert (fiona.email, fiona.title) == ("fiona@example.com", "Finance portal editor")
    assert not fiona.has_usable_password()
    assert sso.signed_in_user(http) == "fiona"
    assert sso.session_data(http)["atrium_auth_method"] == "saml" and "atrium_mfa" not in sso.session_data(http)
    assert SecurityEvent.objects.filter(event_type="sign_in", username="fiona", method="saml").exists()
    (request,) = sso.idp.events("authn_request")
    assert request["signed"] and not request["force_authn"] and request["requested_contexts"] == []
    # The SAML state has its own cookie, sent to the SAML endpoints only.
    saml_cookie = next(c for c in http.cookies if c.name == SAML_COOKIE)
    assert saml_cookie.path == "/accounts/saml2/" and saml_cookie.has_nonstandard_attr("HttpOnly")


def test_groups_are_mirrored_and_local_groups_kept(sso: Sso) -> None:
    assert sso.sign_in(requests.Session(), "fiona").status_code == 302
    fiona = User.objects.get(username="fiona")
    assert set(fiona.groups.values_list("name", flat=True)) == {"finance-editors", "finance-staff"}
    fiona.groups.add(Group.objects.create(name="portal-helpers"))  # granted in Atrium, never reported by the IdP

    sso.idp.set_groups("fiona", ["finance-staff", "atrium-auditors"])
    assert sso.sign_in(requests.Session(), "fiona").status_code == 302
    fiona.refresh_from_db()
    assert set(fiona.groups.values_list("name", flat=True)) == {"finance-staff", "atrium-auditors", "portal-helpers"}
    assert fiona.is_staff and not fiona.is_superuser  # the auditor flag follows the IdP's group
    mirrored = set(MirroredGroup.objects.filter(source="saml").values_list("group__name", flat=True))
    assert mirrored == {"finance-editors", "finance-staff", "atrium-auditors"}


def test_a_local_account_cannot_be_taken_over_by_sso(sso: Sso) -> None:
    User.objects.create_user("fiona", password="a-local-password-123", source=DirectorySource.LOCAL)
    assert_refused(sso.sign_in(requests.Session(), "fiona"))
    assert "local account" in sso_errors()[-1].reason
    assert User.objects.get(username="fiona").check_password("a-local-password-123")


# ---------------------------------------------------------------------------------------------------------------
# MFA from the IdP
# ---------------------------------------------------------------------------------------------------------------
def test_mfa_section_steps_up_at_the_idp(sso: Sso) -> None:
    Section.objects.filter(slug="finance").update(require_mfa=True)
    http = requests.Session()
    assert sso.sign_in(http, "fiona").status_code == 302

    refused = http.get(f"{sso.portal}/finance/", allow_redirects=False)
    assert refused.status_code == 302 and refused.headers["Location"] == "/accounts/saml2/step-up/?next=%2Ffinance%2F"
    location = sso.start(http, refused.headers["Location"])
    authn_request = decoded_request(location)
    assert 'ForceAuthn="true"' in authn_request
    assert "RequestedAuthnContext" in authn_request and f">{MFA_CONTEXT}</" in authn_request

    form = http.get(location).text
    assert 'name="otp"' in form  # the IdP asks for the second factor although its session exists
    target, fields = sso.at_idp(http, location, "fiona", otp=ONE_TIME_CODE)
    response = http.post(target, data=fields, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/finance/"
    assert http.get(f"{sso.portal}/finance/", allow_redirects=False).status_code == 200
    assert sso.session_data(http)["atrium_mfa"] == "idp"
    assert [e["context"] for e in sso.idp.events("authn_response")] == [PASSWORD_CONTEXT, MFA_CONTEXT]
    assert SecurityEvent.objects.filter(event_type="mfa_required", section_slug="finance").exists()
    assert SecurityEvent.objects.filter(event_type="mfa_passed", username="fiona", method="saml").exists()


def test_a_step_up_without_mfa_stops_with_a_message(sso: Sso) -> None:
    Section.objects.filter(slug="finance").update(require_mfa=True)
    http = requests.Session()
    assert sso.sign_in(http, "nina").status_code == 302
    response = sso.sign_in(http, "nina", path="/finance/")  # via the step-up; this IdP ignores the request
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "did not confirm a second factor" in http.get(f"{sso.portal}/").text
    event = SecurityEvent.objects.get(event_type="mfa_failed", username="nina")
    assert event.method == "saml" and PASSWORD_CONTEXT in event.reason
    again = http.get(f"{sso.portal}/finance/", allow_redirects=False)
    assert again.headers["Location"].startswith("/accounts/saml2/step-up/")


def test_a_user_whose_idp_sign_in_used_mfa_needs_no_step_up(sso: Sso) -> None:
    Section.objects.filter(slug="finance").update(require_mfa=True)
    http = requests.Session()
    assert sso.sign_in(http, "mia", path="/accounts/saml2/login/?next=/finance/").headers["Location"] == "/finance/"
    assert http.get(f"{sso.portal}/finance/", allow_redirects=False).status_code == 200
    assert sso.session_data(http)["atrium_mfa"] == "idp"


# ---------------------------------------------------------------------------------------------------------------
# Refused responses: each is a security event and the sign-in page's message, never a server error
# ---------------------------------------------------------------------------------------------------------------
def test_a_tampered_assertion_is_refused(sso: Sso) -> None:
    http = requests.Session()
    target, fields = sso.at_idp(http, sso.start(http), "fiona")
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert ">finance-staff<" in xml
    fields["SAMLResponse"] = base64.b64encode(xml.replace(">finance-staff<", ">atrium-admins<").encode()).decode()

    response = http.post(target, data=fields, allow_redirects=False)
    assert_refused(response)
    assert "did not complete" in http.get(sso.portal + response.headers["Location"]).text
    assert sso.signed_in_user(http) == "" and not User.objects.filter(username="fiona").exists()
    assert "signature" in sso_errors()[-1].reason and sso_errors()[-1].method == "saml"


def test_an_unsigned_response_is_refused(sso: Sso) -> None:
    http = requests.Session()
    target, fields = sso.at_idp(http, sso.start(http), "fiona")
    root = ET.fromstring(base64.b64decode(fields["SAMLResponse"]))
    for parent in root.iter():
        for signature in parent.findall(f"{{{DSIG}}}Signature"):
            parent.remove(signature)
    assert f"{{{DSIG}}}Signature" not in ET.tostring(root).decode()
    fields["SAMLResponse"] = base64.b64encode(ET.tostring(root)).decode()

    assert_refused(http.post(target, data=fields, allow_redirects=False))
    assert sso.signed_in_user(http) == "" and "signature" in sso_errors()[-1].reason


def test_a_replayed_response_is_refused(sso: Sso) -> None:
    http = requests.Session()
    target, fields = sso.at_idp(http, sso.start(http), "fiona")
    assert http.post(target, data=fields, allow_redirects=False).headers["Location"] == "/"

    again = http.post(target, data=fields, allow_redirects=False)  # the same browser posts it once more
    assert again.status_code == 302 and again.headers["Location"] == "/"  # already signed in: stays where it was
    attacker = requests.Session()  # a captured response, posted from elsewhere
    assert_refused(attacker.post(target, data=fields, allow_redirects=False))
    assert sso.signed_in_user(attacker) == ""
    reasons = [e.reason for e in sso_errors()]
    assert len(reasons) == 2 and all("replayed" in r for r in reasons)


# pysaml2 (run in-process here for the rogue IdP) still imports a cipher mode that cryptography has deprecated.
@pytest.mark.filterwarnings("ignore:CFB has been moved")
def test_a_response_from_another_idp_is_refused(sso: Sso, tmp_path: Path) -> None:
    http = requests.Session()
    location = sso.start(http)
    request_id = re.search(r' ID="([^"]+)"', decoded_request(location))
    assert request_id
    sp_entity_id = f"{sso.portal}/accounts/saml2/metadata/"
    rogue = IdentityProvider("https://rogue-idp.example.com", tmp_path, sp_entity_id)  # its own key, same users
    acs = sso.portal + ACS_PATH
    xml = rogue.signed_response("fiona", MFA_CONTEXT, request_id.group(1), acs, sp_entity_id)
    response = http.post(acs, data={"SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": "/"})
    assert response.status_code == 200 and "did not complete" in response.text  # followed to the sign-in page
    assert sso.signed_in_user(http) == "" and not User.objects.filter(username="fiona").exists()
    assert "not from the configured IdP" in sso_errors()[-1].reason


def test_an_idp_error_status_is_refused_with_a_message(sso: Sso) -> None:
    http = requests.Session()
    target, fields = sso.at_idp(http, sso.start(http), "fiona", action="cancel")
    response = http.post(target, data=fields, allow_redirects=False)
    assert_refused(response)
    assert sso_errors()[-1].reason == (
        "the IdP answered with an error status: StatusAuthnFailed "
        "(Responder/AuthnFailed: The user cancelled the sign-in.)"
    )
    assert sso.signed_in_user(http) == ""


# ---------------------------------------------------------------------------------------------------------------
# Single logout
# ---------------------------------------------------------------------------------------------------------------
def csrf_token(http: requests.Session, url: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', http.get(url).text)
    assert match
    return match.group(1)


def test_sign_out_ends_the_portal_session_and_the_idp_session(sso: Sso) -> None:
    http = requests.Session()
    assert sso.sign_in(http, "fiona").status_code == 302
    portal_session = http.cookies.get(settings.SESSION_COOKIE_NAME)
    token = csrf_token(http, f"{sso.portal}/")

    # The header's sign-out form; the browser follows the redirect to the SAML logout (same origin).
    page = http.post(
        f"{sso.portal}/accounts/logout/",
        data={"csrfmiddlewaretoken": token},
        headers={"Sec-Fetch-Site": "same-origin", "Referer": f"{sso.portal}/"},
    )
    assert page.status_code == 200 and "saml-autosubmit.js" in page.text
    assert "form-action 'self' http://127.0.0.1:" in page.headers["Content-Security-Policy"]
    assert not Session.objects.filter(session_key=portal_session).exists()  # the portal session is over already

    target, fields = parse_post_form(page.text)
    assert target == f"{sso.idp.base_url}/slo/post" and "SAMLRequest" in fields
    answer = http.post(target, data=fields)
    (logout,) = sso.idp.events("logout_request")
    assert logout["user"] == "fiona" and logout["signed"] and logout["sessions_ended"] == 1

    back_target, back_fields = parse_post_form(answer.text)
    assert back_target == sso.portal + LOGOUT_SERVICE_POST_PATH
    done = http.post(back_target, data=back_fields, allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert sso.signed_in_user(http) == ""
    assert http.get(f"{sso.portal}/finance/", allow_redirects=False).headers["Location"].startswith("/accounts/login/")
    assert SecurityEvent.objects.filter(event_type="sign_out", username="fiona").exists()
    assert not sso_errors()
    # The IdP session is gone too: signing in again shows its form.
    assert 'name="password"' in http.get(sso.start(http)).text


def test_a_logout_link_from_another_site_only_asks_to_confirm(sso: Sso) -> None:
    http = requests.Session()
    assert sso.sign_in(http, "fiona").status_code == 302
    page = http.get(f"{sso.portal}/accounts/saml2/logout/", headers={"Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and "Sign out?" in page.text
    assert sso.signed_in_user(http) == "fiona" and not sso.idp.events("logout_request")


def test_logout_started_at_the_idp_ends_the_portal_session(sso: Sso) -> None:
    http = requests.Session()
    assert sso.sign_in(http, "fiona").status_code == 302
    portal_session = http.cookies.get(settings.SESSION_COOKIE_NAME)
    page = http.get(f"{sso.idp.base_url}/-/logout?user=fiona")
    target, fields = parse_post_form(page.text)
    assert target == sso.portal + LOGOUT_SERVICE_POST_PATH

    # A cross-site POST from the IdP brings the SAML cookie (SameSite=None) but not the portal's (Lax).
    answer = requests.post(target, data=fields, cookies={SAML_COOKIE: http.cookies[SAML_COOKIE]}, timeout=10)
    assert answer.status_code == 200
    assert not Session.objects.filter(session_key=portal_session).exists()
    back_target, back_fields = parse_post_form(answer.text)
    assert back_target == f"{sso.idp.base_url}/slo/post" and "SAMLResponse" in back_fields
    http.post(back_target, data=back_fields)
    assert sso.idp.events("logout_response") == [{"type": "logout_response", "status_ok": True}]


def test_an_unsigned_logout_request_is_refused(sso: Sso) -> None:
    http = requests.Session()
    assert sso.sign_in(http, "fiona").status_code == 302
    target, fields = parse_post_form(http.get(f"{sso.idp.base_url}/-/logout?user=fiona").text)
    root = ET.fromstring(base64.b64decode(fields["SAMLRequest"]))
    root.remove(root.find(f"{{{DSIG}}}Signature"))
    fields["SAMLRequest"] = base64.b64encode(ET.tostring(root)).decode()
    response = http.post(target, data=fields, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/"  # with a message, still signed in
    assert sso.signed_in_user(http) == "fiona" and "IncorrectlySigned" in sso_errors()[-1].reason
