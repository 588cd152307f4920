"""SAML 2.0 single sign-on (djangosaml2 on pysaml2) for identity providers that only speak SAML, such as AD FS.

- `AtriumSaml2Backend` turns a verified assertion into a user: attributes, groups mirrored by the same service
  as OIDC's (`sync_user_from_identity_provider`), and whether the IdP did MFA (AuthnContextClassRef).
- The views are djangosaml2's, adapted: they answer 404 while SAML_ENABLED is off, keep the SAML state in a
  session and cookie of their own (SameSite=None, so the IdP's cross-site POST still finds it), send outgoing
  messages through a page the CSP allows, and turn every failure (bad signature, replay, unknown IdP, an IdP
  error status, an IdP that cannot be reached) into an `sso_error` security event and the sign-in page's
  "single sign-on did not complete" message, never an error page.
"""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from importlib import import_module
from typing import Any, Literal
from urllib.parse import urlsplit

import saml2
import saml2.httpbase
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from djangosaml2 import views as djangosaml2_views
from djangosaml2.backends import Saml2Backend
from djangosaml2.cache import OutstandingQueriesCache
from djangosaml2.utils import available_idps, get_location
from saml2.mdstore import SourceNotFound
from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse
from saml2.s_utils import UnknownSystemEntity
from saml2.saml import AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import MissingKey, SignatureError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from core.security import EventType, record_security_event

from .backends import MAX_USERNAME_LENGTH
from .models import DirectorySource, User, load_active_user
from .saml_config import load_sp_config
from .services import DirectoryProfile, sync_user_from_identity_provider

logger = logging.getLogger("atrium.saml")

METHOD = "saml"
# Only the SAML endpoints need the SAML session, so its cookie is sent nowhere else.
SAML_COOKIE_PATH = "/accounts/saml2/"
# Stored in the SAML session: the portal session it signed in, for IdP-initiated logout (see LogoutServiceView).
PORTAL_SESSION_KEY = "atrium_portal_session_key"
# Stored in the SAML session: the ids of the AuthnRequests sent by the MFA step-up.
STEP_UP_REQUESTS = "atrium_step_up_requests"
MAX_GROUP_NAME_LENGTH = 150
FAILED_MESSAGE = "Single sign-on did not complete. Try again; if it keeps failing, your identity provider may be down."


class SamlRefused(Exception):
    """The SAML exchange was well-formed but cannot be accepted (e.g. the IdP is not the configured one)."""


# ---------------------------------------------------------------------------------------------------------------
# Rules shared by the backend and the views
# ---------------------------------------------------------------------------------------------------------------
def trusted_idps(config: Any) -> set[str]:
    """The IdP entity ids whose assertions are accepted: SAML_IDP_ENTITY_ID, or the one IdP in the metadata."""
    if settings.SAML_IDP_ENTITY_ID:
        return {settings.SAML_IDP_ENTITY_ID}
    return set(available_idps(config))


def chosen_idp(config: Any) -> str:
    """The IdP to sign in at; a metadata file listing several IdPs needs SAML_IDP_ENTITY_ID to pick one."""
    known = set(available_idps(config))
    wanted = settings.SAML_IDP_ENTITY_ID
    if wanted:
        if wanted not in known:
            raise SamlRefused(f"SAML_IDP_ENTITY_ID {wanted} is not in the IdP metadata")
        return str(wanted)
    if len(known) != 1:
        raise SamlRefused(f"the IdP metadata lists {len(known)} identity providers; set SAML_IDP_ENTITY_ID")
    return known.pop()


def mfa_contexts() -> set[str]:
    """AuthnContextClassRefs that mean the IdP did MFA (the context asked for on step-up always counts)."""
    contexts = set(settings.SAML_MFA_AUTHN_CONTEXTS)
    if settings.SAML_MFA_REQUEST_CONTEXT:
        contexts.add(settings.SAML_MFA_REQUEST_CONTEXT)
    return contexts


def authn_contexts(session_info: dict[str, Any]) -> list[str]:
    """The AuthnContextClassRefs of the assertion's AuthnStatements (pysaml2's session_info["authn_info"])."""
    return [str(entry[0]) for entry in session_info.get("authn_info") or [] if entry and entry[0]]


# ---------------------------------------------------------------------------------------------------------------
# Authentication backend
# ---------------------------------------------------------------------------------------------------------------
class AtriumSaml2Backend(Saml2Backend):
    """Signs in the subject of a verified SAML assertion and mirrors their attributes and groups.

    djangosaml2's ACS view calls `authenticate()` with pysaml2's `session_info` (issuer, NameID, attributes and
    `authn_info`, the AuthnContextClassRefs) after the signatures, audience, validity and InResponseTo have been
    checked, and calls `login()` right after it returns, so `request.atrium_idp_mfa` is set before the
    `user_logged_in` receiver in accounts.security reads it into session["atrium_mfa"].
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        session_info: dict[str, Any] | None = None,
        attribute_mapping: dict[str, tuple[str, ...]] | None = None,
        create_unknown_user: bool = True,
        assertion_info: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None or not session_info or attribute_mapping is None or "ava" not in session_info:
            return None  # not a SAML sign-in: the directory form and break-glass also call every backend
        try:
            user = self._sync_user(request, session_info, attribute_mapping, create_unknown_user)
        except SamlRefused as exc:
            # djangosaml2 only learns "no user"; the ACS view records this reason in the sso_error event.
            logger.warning("SAML sign-in refused: %s", exc)
            request.atrium_sso_refusal = str(exc)  # type: ignore[attr-defined]
            return None
        contexts = authn_contexts(session_info)
        request.atrium_idp_mfa = bool(mfa_contexts() & set(contexts))  # type: ignore[attr-defined]
        return user

    def _sync_user(
        self,
        request: HttpRequest,
        session_info: dict[str, Any],
        attribute_mapping: dict[str, tuple[str, ...]],
        create_unknown_user: bool,
    ) -> User:
        issuer = str(session_info.get("issuer") or "")
        if issuer not in trusted_idps(load_sp_config(request)):
            raise SamlRefused(f"assertion issued by {issuer or 'nobody'}, which is not the configured IdP")
        # Attribute names are matched without regard to case: AD FS claim types and LDAP names vary in case.
        attributes = {str(k).lower(): [str(v) for v in values] for k, values in session_info["ava"].items()}
        username = self._username(session_info, attributes, attribute_mapping)
        if not username or len(username) > MAX_USERNAME_LENGTH:
            raise SamlRefused("the assertion carries no usable username")
        existing = User.objects.filter(username=username).first()
        if existing is None and not create_unknown_user:
            raise SamlRefused(f"{username} has no account here and SAML_CREATE_UNKNOWN_USER is off")
        if existing is not None and existing.source == DirectorySource.LOCAL:
            # Local accounts (break-glass) must not be taken over by whoever the IdP calls by the same name.
            raise SamlRefused(f"{username} is a local account, which SSO may not sign in")
        asserted = attributes.get(settings.SAML_GROUPS_ATTRIBUTE.lower(), [])
        # Django group names hold at most 150 characters; a longer name cannot be one of Atrium's groups.
        groups = tuple(sorted({g.strip() for g in asserted if g.strip() and len(g.strip()) <= MAX_GROUP_NAME_LENGTH}))
        profile = DirectoryProfile(
            username=username,
            first_name=self._value(attributes, attribute_mapping, "first_name"),
            last_name=self._value(attributes, attribute_mapping, "last_name"),
            email=self._value(attributes, attribute_mapping, "email"),
            department=self._value(attributes, attribute_mapping, "department"),
            title=self._value(attributes, attribute_mapping, "title"),
            groups=groups,
        )
        # The same rules as OIDC: groups SAML has ever reported are mirrored, the others are Atrium's own and kept.
        user = sync_user_from_identity_provider(profile, source=DirectorySource.SAML)
        if not self.user_can_authenticate(user):
            raise SamlRefused(f"{username} is not active")
        return user

    @staticmethod
    def _username(
        session_info: dict[str, Any], attributes: dict[str, list[str]], mapping: dict[str, tuple[str, ...]]
    ) -> str:
        if settings.SAML_USE_NAME_ID_AS_USERNAME:
            name_id = session_info.get("name_id")
            return str(getattr(name_id, "text", "") or "").strip()
        return AtriumSaml2Backend._value(attributes, mapping, "username")

    @staticmethod
    def _value(attributes: dict[str, list[str]], mapping: dict[str, tuple[str, ...]], field: str) -> str:
        """The first value of the SAML attribute that SAML_ATTRIBUTE_MAPPING maps to this user field."""
        for saml_name, fields in mapping.items():
            values = attributes.get(saml_name.lower())
            if field in fields and values:
                return values[0].strip()
        return ""

    # Atrium grants rights through section roles (django-guardian) and the admin and auditor flags, never through
    # Django's model permissions on groups. ModelBackend, which Saml2Backend extends, would grant those to every
    # user as soon as SAML is switched on; these overrides keep permissions the same whichever backends are on.
    def get_user(self, user_id: Any) -> Any:
        return load_active_user(user_id)

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return False

    def with_perm(self, *args: Any, **kwargs: Any) -> Any:
        return User.objects.none()


# ---------------------------------------------------------------------------------------------------------------
# View helpers: the SAML session, failures, outgoing HTTP-POST messages
# ---------------------------------------------------------------------------------------------------------------
def saml_session(request: HttpRequest) -> SessionBase:
    """The request's SAML session (djangosaml2 keeps outstanding requests, identities and logout state there)."""
    session: SessionBase = request.saml_session  # type: ignore[attr-defined]
    return session


def _session_store(session_key: str | None = None) -> SessionBase:
    store: SessionBase = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return store


def _save_saml_session(request: HttpRequest, response: HttpResponse) -> None:
    """Save the SAML session and set or delete its cookie (what djangosaml2's SamlSessionMiddleware does, only here).

    The IdP posts its answer cross-site; only a SameSite=None cookie comes with it, and browsers accept those
    only with Secure. Over plain HTTP (development, tests) the IdP is on the same site, so Lax does.
    """
    session = saml_session(request)
    name = settings.SAML_SESSION_COOKIE_NAME
    secure = request.is_secure() or settings.SESSION_COOKIE_SECURE
    samesite: Literal["None", "Lax"] = "None" if secure else "Lax"
    if session.is_empty():
        if name in request.COOKIES:
            response.delete_cookie(name, path=SAML_COOKIE_PATH, samesite=samesite)
        return
    if session.modified and response.status_code < 500:
        session.save()
        response.set_cookie(
            name,
            session.session_key or "",
            max_age=settings.SESSION_COOKIE_AGE,
            path=SAML_COOKIE_PATH,
            secure=secure,
            httponly=True,
            samesite=samesite,
        )


# Failures an operator can act on, most specific first: (exception types, what to say before the detail).
_FAILURE_REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((UnsolicitedResponse,), "unsolicited or replayed SAML response (it answers no request outstanding here)"),
    ((SignatureError, IncorrectlySigned), "the SAML message's signature is missing or invalid"),
    ((MissingKey,), "no key to check the signature: the response is not from the configured IdP"),
    ((ResponseLifetimeExceed, ToEarly), "the SAML response is outside its validity period (clocks out of step?)"),
    ((UnknownSystemEntity,), "unknown IdP"),
    ((SourceNotFound, saml2.httpbase.ConnectionError), "the IdP metadata could not be fetched"),
    ((PermissionDenied, SamlRefused), "refused"),
)


def describe_failure(exc: BaseException | None) -> str:
    """A reason for the security log that an operator can act on."""
    if exc is None:
        return "unknown SAML error"
    if isinstance(exc, StatusError):
        # pysaml2 puts the whole <Status> XML in the message; the codes and the IdP's message are what matter.
        text = str(exc)
        codes = [code.rsplit(":", 1)[-1] for code in re.findall(r'Value="([^"]+)"', text)]
        message = re.search(r"StatusMessage[^>]*>([^<]*)<", text)
        detail = "/".join(codes) + (f": {message.group(1)}" if message else "")
        return f"the IdP answered with an error status: {type(exc).__name__} ({detail or text})"
    for types, reason in _FAILURE_REASONS:
        if isinstance(exc, types):
            return f"{reason}: {type(exc).__name__}: {exc}"
    return f"{type(exc).__name__}: {exc}"


def sso_failed(request: HttpRequest, reason: str, exc: BaseException | None = None) -> HttpResponse:
    """Record the failure and send the browser to the sign-in page, which says that SSO did not complete."""
    record_security_event(
        EventType.SSO_ERROR,
        request=request,
        success=False,
        method=METHOD,
        reason=reason,
        error=type(exc).__name__ if exc is not None else "",
    )
    if request.user.is_authenticated:
        # The sign-in page sends signed-in users on at once, so tell them here (e.g. a failed step-up).
        messages.error(request, FAILED_MESSAGE)
        return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
    return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)


class _PostFormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append((values.get("action") or "", {}))
        elif tag == "input" and values.get("type") == "hidden" and values.get("name") and self.forms:
            self.forms[-1][1][str(values["name"])] = values.get("value") or ""


def parse_post_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the form carrying a SAML message on an HTTP-POST binding page."""
    parser = _PostFormParser()
    parser.feed(page)
    for action, fields in parser.forms:
        if "SAMLRequest" in fields or "SAMLResponse" in fields:
            return action, fields
    return "", {}


def post_binding_page(request: HttpRequest, http_info: dict[str, Any]) -> HttpResponse:
    """Re-render pysaml2's HTTP-POST binding page as Atrium's: pysaml2's submits itself with an inline script,
    which the CSP blocks, leaving the user on a blank page."""
    target_url, params = parse_post_form("".join(http_info.get("data") or ""))
    return render(request, "accounts/saml_post.html", {"target_url": target_url, "params": params})


def _idp_origins(config: Any) -> list[str]:
    """The origins of the IdP's SSO and logout endpoints: where pages of the SAML views may post forms."""
    origins = set()
    for entity_id in trusted_idps(config):
        for service in ("single_sign_on_service", "single_logout_service"):
            for endpoints in (config.metadata.service(entity_id, "idpsso_descriptor", service) or {}).values():
                for endpoint in endpoints:
                    parts = urlsplit(endpoint.get("location", ""))
                    if parts.scheme in ("http", "https") and parts.netloc:
                        origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


def _same_origin_navigation(request: HttpRequest) -> bool:
    """Did this GET come from Atrium's own pages (or the address bar), not from another site?"""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    referer = urlsplit(request.headers.get("Referer", ""))
    return f"{referer.scheme}://{referer.netloc}" == f"{request.scheme}://{request.get_host()}"


class SamlViewMixin:
    """What every SAML view shares: 404 while SAML is off, the SAML session, the CSP, and no error pages."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SAML_ENABLED:
            raise Http404("SAML single sign-on is not enabled.")
        request.saml_session = _session_store(  # type: ignore[attr-defined]
            request.COOKIES.get(settings.SAML_SESSION_COOKIE_NAME)
        )
        try:
            response: HttpResponse = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            # Whatever went wrong (IdP unreachable, metadata broken, a message pysaml2 cannot parse), the user
            # gets the sign-in page's message and the operator a security event with the reason, not a 500.
            logger.exception("SAML %s failed", request.path)
            response = sso_failed(request, describe_failure(exc), exc)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            # Pages of these views may post a form to the IdP (the HTTP-POST binding): allow exactly its origins.
            try:
                origins = _idp_origins(load_sp_config(request))
            except Exception:  # noqa: BLE001 - without the metadata the page has no IdP form to allow
                origins = []
            if origins:
                response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        _save_saml_session(request, response)
        return response


# ---------------------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------------------
class LoginView(SamlViewMixin, djangosaml2_views.LoginView):
    """Sends the browser to the IdP with a signed AuthnRequest; `?next=` is where it comes back to."""

    config_loader_path = "accounts.saml_config.load_sp_config"
    # Used only if the IdP takes AuthnRequests by HTTP-POST alone (SAML_DEFAULT_BINDING is HTTP-Redirect).
    post_binding_form_template = "accounts/saml_post.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The portal picks the IdP, never the visitor: djangosaml2 would take ?idp=, ?scoping= and ?idphint=.
        query = request.GET.copy()
        for name in ("idp", "scoping", "idphint"):
            query.pop(name, None)
        query["idp"] = chosen_idp(self.get_sp_config(request))
        request.GET = query  # type: ignore[assignment]
        return super().get(request, *args, **kwargs)  # type: ignore[no-any-return]

    def unknown_idp(self, request: HttpRequest, idp: str) -> HttpResponse:
        return sso_failed(request, f"unknown IdP {idp}")


class StepUpView(LoginView):
    """Signs a signed-in user in again, asking the IdP for MFA (SAML_MFA_REQUEST_CONTEXT) and a fresh login."""

    def should_prevent_auth(self, request: HttpRequest) -> bool:
        return False  # the point is to sign in again, although a session exists

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Remember which AuthnRequest is the step-up, so the ACS can tell whether the IdP did what was asked.
        session = saml_session(request)
        before = set(OutstandingQueriesCache(session).outstanding_queries())
        response = super().get(request, *args, **kwargs)
        started = set(OutstandingQueriesCache(session).outstanding_queries()) - before
        if started:
            session[STEP_UP_REQUESTS] = sorted(set(session.get(STEP_UP_REQUESTS, [])) | started)
        return response

    def load_sso_kwargs(self, sso_kwargs: dict[str, Any]) -> None:
        sso_kwargs["force_authn"] = "true"  # pysaml2 wants the string
        sso_kwargs["requested_authn_context"] = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=settings.SAML_MFA_REQUEST_CONTEXT)],
            comparison="exact",
        )


# The IdP posts from its own site, without a CSRF token; the SAML message's signature and InResponseTo
# (bound to this browser's SAML session) are what protect these two endpoints.
@method_decorator(csrf_exempt, name="dispatch")
class AssertionConsumerServiceView(SamlViewMixin, djangosaml2_views.AssertionConsumerServiceView):
    """Receives the IdP's Response (HTTP-POST), checks it with pysaml2, and signs the user in."""

    config_loader_path = "accounts.saml_config.load_sp_config"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "SAMLResponse" not in request.POST:
            return sso_failed(request, "a POST to the ACS without a SAMLResponse")
        return super().post(request, *args, **kwargs)  # type: ignore[no-any-return]

    def handle_acs_failure(
        self, request: HttpRequest, exception: BaseException | None = None, status: int = 403, **kwargs: Any
    ) -> HttpResponse:
        reason = getattr(request, "atrium_sso_refusal", "") or describe_failure(exception)
        return sso_failed(request, reason, exception)

    def custom_validation(self, response: Any) -> None:
        self.request_id = response.session_id()  # the AuthnRequest this response answers (see custom_redirect)

    def customize_session(self, user: User, session_info: dict[str, Any]) -> None:
        # Remember which portal session this SAML session signed in: an IdP-initiated logout arrives as a
        # cross-site POST without the portal's SameSite=Lax cookie, and must still be able to end it.
        saml_session(self.request)[PORTAL_SESSION_KEY] = self.request.session.session_key

    def custom_redirect(self, user: User, relay_state: str, session_info: dict[str, Any]) -> str | None:
        """After a step-up, say whether the IdP did MFA; without it, stop here instead of asking again."""
        session = saml_session(self.request)
        step_ups = session.get(STEP_UP_REQUESTS, [])
        if getattr(self, "request_id", None) not in step_ups:
            return None
        session[STEP_UP_REQUESTS] = [i for i in step_ups if i != self.request_id]
        if getattr(self.request, "atrium_idp_mfa", False):
            record_security_event(EventType.MFA_PASSED, request=self.request, user=user, method=METHOD)
            return None
        record_security_event(
            EventType.MFA_FAILED,
            request=self.request,
            user=user,
            success=False,
            method=METHOD,
            reason=f"no MFA context after the step-up ({', '.join(authn_contexts(session_info)) or 'none'})",
        )
        messages.warning(
            self.request,
            "Your identity provider did not confirm a second factor, so pages that require one stay closed. "
            "Contact your IT support if you cannot use multi-factor sign-in.",
        )
        return resolve_url(settings.LOGIN_REDIRECT_URL)


class LogoutInitView(SamlViewMixin, djangosaml2_views.LogoutInitView):
    """SP-initiated single logout: ends the portal session and sends a signed LogoutRequest to the IdP.

    accounts' sign-out (a POST with CSRF) redirects SAML users here. A GET from another site (an image, a link)
    only gets a page asking to confirm, so other sites cannot sign people out of the IdP. The LogoutRequest
    leaves on a page of ours (HTTP-POST binding, SAML_LOGOUT_REQUEST_PREFERRED_BINDING) rather than by a
    redirect: the sign-out is a form submission, and browsers apply that page's CSP form-action ('self') to
    the redirects that follow it, which would block a redirect to the IdP.
    """

    config_loader_path = "accounts.saml_config.load_sp_config"

    def handle_no_permission(self) -> HttpResponse:
        return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))  # nobody to sign out

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _same_origin_navigation(request):
            return render(request, "accounts/saml_logout_confirm.html")
        return self.start_logout(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.start_logout(request)

    def start_logout(self, request: HttpRequest) -> HttpResponse:
        state, client = self.get_state_client(request)
        subject_id = djangosaml2_views._get_subject_id(saml_session(request))
        result: dict[str, Any] = {}
        if subject_id is not None:
            try:
                result = client.global_logout(subject_id) or {}
            except Exception as exc:
                # No logout endpoint in the metadata, IdP unreachable...: the portal session still ends below.
                logger.warning("SAML single logout could not be started", exc_info=True)
                record_security_event(
                    EventType.SSO_ERROR,
                    request=request,
                    success=False,
                    method=METHOD,
                    reason=f"single logout could not be started: {describe_failure(exc)}",
                )
        auth.logout(request)
        state.sync()
        if subject_id is not None and not any(isinstance(info, tuple) for info in result.values()):
            record_security_event(
                EventType.SSO_ERROR,
                request=request,
                success=False,
                method=METHOD,
                reason="single logout could not be started: the IdP's metadata has no usable logout endpoint",
            )
        for info in result.values():
            if isinstance(info, tuple):
                binding, http_info = info
                if binding == saml2.BINDING_HTTP_POST:
                    return post_binding_page(request, http_info)
                if binding == saml2.BINDING_HTTP_REDIRECT:
                    return HttpResponseRedirect(get_location(http_info))
        return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))


@method_decorator(csrf_exempt, name="dispatch")
class LogoutServiceView(SamlViewMixin, djangosaml2_views.LogoutView):
    """The SP's logout service: the IdP's LogoutResponse to our request, or an IdP-initiated LogoutRequest."""

    config_loader_path = "accounts.saml_config.load_sp_config"

    def do_logout_service(
        self, request: HttpRequest, data: Any, binding: str, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        if "SAMLResponse" in data:
            return self.logout_response(request, data, binding)
        if "SAMLRequest" in data:
            return self.logout_request(request, data, binding)
        return sso_failed(request, "a request to the logout service without a SAML message")

    def logout_response(self, request: HttpRequest, data: Any, binding: str) -> HttpResponse:
        """The end of SP-initiated logout: the portal session is already gone; note whether the IdP confirmed."""
        auth.logout(request)
        _, client = self.get_state_client(request)
        try:
            response = client.parse_logout_request_response(data["SAMLResponse"], binding)
            confirmed = bool(response and response.status_ok())
        except StatusError:
            confirmed = False
        saml_session(request).flush()
        if not confirmed:
            record_security_event(
                EventType.SSO_ERROR,
                request=request,
                success=False,
                method=METHOD,
                reason="the IdP did not confirm the single logout",
            )
            messages.warning(
                request,
                "You are signed out of Atrium, but your identity provider did not confirm that it signed you out "
                "too. Close your browser to be sure.",
            )
        return HttpResponseRedirect(resolve_url(settings.LOGOUT_REDIRECT_URL))

    def logout_request(self, request: HttpRequest, data: Any, binding: str) -> HttpResponse:
        """IdP-initiated logout (e.g. the user signed out of another application): end the portal session too."""
        state, client = self.get_state_client(request)
        session = saml_session(request)
        subject = djangosaml2_views._get_subject_id(session)  # the NameID this browser signed in with
        args = {"relay_state": data.get("RelayState"), "sigalg": data.get("SigAlg"), "signature": data.get("Signature")}
        # Parsed first to see whom it is for; pysaml2 checks its signature (load_sp_config makes it required).
        message = client.parse_logout_request(data["SAMLRequest"], binding, **args).message
        is_ours = subject is not None and message.name_id == subject
        http_info = client.handle_logout_request(data["SAMLRequest"], subject, binding, **args)
        state.sync()
        if is_ours:
            portal_session_key = session.get(PORTAL_SESSION_KEY)
            user = request.user if request.user.is_authenticated else None
            auth.logout(request)
            if portal_session_key:
                _session_store(portal_session_key).delete()
            session.flush()
            record_security_event(
                EventType.SIGN_OUT,
                request=request,
                user=user,
                username=getattr(message.name_id, "text", "") or "",
                method=METHOD,
                reason="single logout started by the IdP",
            )
        else:
            record_security_event(
                EventType.SSO_ERROR,
                request=request,
                success=False,
                method=METHOD,
                reason="a LogoutRequest for a subject this browser is not signed in as",
            )
        # The answer goes back by the IdP's HTTP-Redirect binding (a Location) or its HTTP-POST binding (a form).
        location = dict(http_info.get("headers") or []).get("Location")
        return HttpResponseRedirect(location) if location else post_binding_page(request, http_info)


class MetadataView(SamlViewMixin, djangosaml2_views.MetadataView):
    """This SP's metadata (entity id, ACS and logout endpoints, signing and encryption certificate) for the IdP."""

    config_loader_path = "accounts.saml_config.load_sp_config"
