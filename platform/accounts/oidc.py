"""OIDC single sign-on on mozilla-django-oidc: authorization code with PKCE, groups and MFA from the IdP's claims.

Switched on with OIDC_ENABLED (docs/howto/connect-oidc.md lists every setting). The pieces:

- `AtriumOIDCBackend` turns a verified ID token and the userinfo claims into an Atrium user through the same
  service as the directory (attributes, mirrored groups, admin/auditor flags) and tells the sign-in receiver
  (`accounts.security.on_signed_in`) whether the IdP did MFA (`amr`/`acr`).
- `AtriumOIDCAuthenticationView`, `AtriumOIDCStepUpView` and `AtriumOIDCCallbackView` run the redirects. Every
  state they send is tagged with its purpose (sign-in, MFA step-up, silent renewal), so the callback can react to
  the IdP's answer accordingly. Any failure (an IdP error, a forged state, an IdP that is down or slow) ends on
  the sign-in page with `?sso=failed` and a security event, never a server error.
- `AtriumSessionRefresh` renews the ID token silently (`prompt=none`) before it expires, for OIDC sessions only.
- `idp_logout_url` / `provider_logout_url` end the session at the IdP too (RP-initiated logout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from django.conf import settings
from django.contrib import auth, messages
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from jwt import PyJWTError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from core.security import EventType, record_security_event

from .backends import MAX_USERNAME_LENGTH
from .mfa import SESSION_METHOD, SESSION_MFA
from .models import DirectorySource, User, load_active_user
from .services import DirectoryProfile, sync_user_from_identity_provider

logger = logging.getLogger("atrium.oidc")

METHOD = DirectorySource.OIDC.value  # what accounts.security stores in the session as SESSION_METHOD

# mozilla-django-oidc keeps one entry per pending authorization request in session["oidc_states"]; Atrium adds
# the purpose of the request to it, so the callback knows what the IdP's answer was for.
STATES_KEY = "oidc_states"
PURPOSE_KEY = "atrium_purpose"
PURPOSE_SIGN_IN = "sign-in"
PURPOSE_STEP_UP = "step-up"
PURPOSE_RENEW = "renew"
# The errors an IdP answers a `prompt=none` request with when it needs the user (OIDC Core 3.1.2.6): for a silent
# renewal they mean "the IdP session is over", not "single sign-on is broken".
SILENT_RENEWAL_ERRORS = frozenset(
    {"login_required", "interaction_required", "consent_required", "account_selection_required"}
)
FAILURE_ATTRIBUTE = "atrium_oidc_failure"  # why the backend refused a sign-in (request attribute, for the event)
SESSION_ID_TOKEN = "oidc_id_token"  # noqa: S105 - the session key where mozilla-django-oidc keeps the ID token
SESSION_NEXT = "oidc_login_next"  # and here the page to return to after the callback

# What OIDC cannot work without; the JWKS endpoint is only needed for asymmetric signatures (RS*/ES*).
REQUIRED_SETTINGS = (
    "OIDC_RP_CLIENT_ID",
    "OIDC_RP_CLIENT_SECRET",
    "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "OIDC_OP_TOKEN_ENDPOINT",
    "OIDC_OP_USER_ENDPOINT",
)


def configuration_problem() -> str:
    """What is missing for OIDC sign-in to work ("" when nothing is)."""
    names = list(REQUIRED_SETTINGS)
    if str(getattr(settings, "OIDC_RP_SIGN_ALGO", "")).startswith(("RS", "ES")):
        names.append("OIDC_OP_JWKS_ENDPOINT")
    missing = [name for name in names if not getattr(settings, name, "")]
    return f"missing {', '.join(missing)}" if missing else ""


# ---------------------------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------------------------
def claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name; a dotted name that is not a claim itself walks nested objects (`realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any, limit: int = 150) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def username_from_claims(claims: dict[str, Any]) -> str:
    """The Atrium username: the OIDC_USERNAME_CLAIM (preferred_username), else the subject; "" if unusable."""
    for name in (settings.OIDC_USERNAME_CLAIM, "sub"):
        value = claim(claims, name)
        if isinstance(value, str) and value.strip():
            username = value.strip()
            return username if len(username) <= MAX_USERNAME_LENGTH else ""
    return ""


def group_names_from_claims(claims: dict[str, Any]) -> tuple[str, ...]:
    """The group names in the OIDC_GROUPS_CLAIM: a list of names, or one name; an absent claim means no groups.

    Raises SuspiciousOperation for a "groups overage" (Entra ID leaves the claim out and points to the Graph API
    when a user is in too many groups): signing such a user in would silently take all their groups away.
    """
    name = settings.OIDC_GROUPS_CLAIM
    value = claim(claims, name)
    if value is None:
        sources = claims.get("_claim_names")
        if isinstance(sources, dict) and name in sources:
            raise SuspiciousOperation(f"the IdP sent a groups overage instead of the {name!r} claim")
        return ()
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    groups = {_text(item) for item in values if isinstance(item, str) and len(item.strip()) <= 150}
    return tuple(sorted(group for group in groups if group))


def idp_did_mfa(payload: dict[str, Any]) -> bool:
    """Did the IdP do MFA at this sign-in? Any `amr` in OIDC_MFA_AMR_VALUES, or an `acr` in OIDC_MFA_ACR_VALUES."""
    amr = payload.get("amr")
    methods = [amr] if isinstance(amr, str) else amr if isinstance(amr, list) else []
    if any(isinstance(method, str) and method in settings.OIDC_MFA_AMR_VALUES for method in methods):
        return True
    acr = payload.get("acr")
    return isinstance(acr, str) and acr in settings.OIDC_MFA_ACR_VALUES


# ---------------------------------------------------------------------------------------------------------------
# Authentication backend
# ---------------------------------------------------------------------------------------------------------------
class AtriumOIDCBackend(OIDCAuthenticationBackend):
    """Signs people in from the IdP's claims, with the directory's rules for attributes, groups and flags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent raises ImproperlyConfigured for RS256 without a JWKS endpoint. Django builds every backend for
        # each authenticate() call, so that would break every sign-in, break-glass included; refuse only OIDC.
        self.problem = ""
        try:
            super().__init__(*args, **kwargs)
        except ImproperlyConfigured as exc:
            self.problem = str(exc)
            self.UserModel = User

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback view passes a nonce. The password forms never do, so a crafted `?code=&state=` on them
        # cannot make this backend talk to the IdP.
        if request is None or "nonce" not in kwargs or not settings.OIDC_ENABLED:
            return None
        if self.problem:
            setattr(request, FAILURE_ATTRIBUTE, f"OIDC is misconfigured: {self.problem}")
            return None
        return super().authenticate(request, **kwargs)  # type: ignore[no-any-return]

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        if "nonce" not in kwargs:
            return payload  # a signed userinfo response, not an ID token
        # mozilla-django-oidc checks the signature, expiry and nonce; the issuer and audience are checked here.
        issuer = settings.OIDC_OP_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation(f"the ID token's issuer {payload.get('iss')!r} is not OIDC_OP_ISSUER")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token was not issued to this client (aud)")
        return payload

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        # The parent insists on an e-mail address whenever the `email` scope is asked for; what Atrium needs is a
        # subject and a username, and some enterprise accounts (service desks, shared mailboxes) have no e-mail.
        return bool(claims.get("sub")) and bool(username_from_claims(claims))

    def _refuse(self, reason: str) -> SuspiciousOperation:
        setattr(self.request, FAILURE_ATTRIBUTE, reason)
        return SuspiciousOperation(reason)

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        """Sync the user from the verified ID token (`payload`) and the userinfo claims; note MFA for the session."""
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            # OIDC Core 5.3.2: userinfo about another subject than the ID token's must not be used.
            raise self._refuse("the userinfo subject differs from the ID token's")
        # userinfo is the IdP's current view of the profile; the ID token fills in what only it carries (some
        # IdPs put the groups in the ID token only).
        claims = {**payload, **userinfo}
        if not self.verify_claims(claims):
            raise self._refuse("the IdP sent no usable username (preferred_username or sub)")
        username = username_from_claims(claims)
        if User.objects.filter(username=username, source=DirectorySource.LOCAL).exists():
            # Local accounts (break-glass) must stay usable when SSO is down; an IdP account of the same name
            # taking them over would also be a way for the IdP's admins to become Atrium's break-glass admins.
            raise self._refuse(f"the username {username!r} belongs to a local account")
        try:
            groups = group_names_from_claims(claims)
        except SuspiciousOperation as exc:
            raise self._refuse(str(exc)) from exc
        profile = DirectoryProfile(
            username=username,
            first_name=_text(claims.get("given_name")),
            last_name=_text(claims.get("family_name")),
            email=_text(claims.get("email"), 254),
            department=_text(claims.get("department")),
            title=_text(claims.get("title") or claims.get("job_title")),
            groups=groups,
        )
        user = sync_user_from_identity_provider(profile, source=METHOD)
        # Only the verified ID token says how the user authenticated (verify_claims never sees it); the
        # user_logged_in receiver turns this into session["atrium_mfa"] = "idp".
        setattr(self.request, "atrium_idp_mfa", idp_did_mfa(payload))  # noqa: B010 - not an HttpRequest field
        return user

    def get_user(self, user_id: int) -> User | None:
        return load_active_user(user_id)


# ---------------------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------------------
def _require_enabled() -> None:
    if not settings.OIDC_ENABLED:
        raise Http404("OIDC single sign-on is not enabled.")


def _tag_state(request: HttpRequest, response: HttpResponse, purpose: str) -> None:
    """Remember why the authorization request in `response` (a redirect to the IdP) was sent."""
    location = response.get("Location") or response.get("refresh_url") or ""
    state = parse_qs(urlsplit(location).query).get("state", [""])[0]
    states = request.session.get(STATES_KEY)
    if state and isinstance(states, dict) and isinstance(states.get(state), dict):
        states[state][PURPOSE_KEY] = purpose
        request.session.modified = True


def sso_failure(request: HttpRequest, reason: str, *, end_session: bool = False) -> HttpResponseRedirect:
    """Record the failure, optionally end the Atrium session, and send the user to the sign-in page's message.

    The session is ended when a request this browser started went wrong: a half-renewed or half-stepped-up
    session must not continue, and the sign-in page only shows its message to a signed-out user.
    """
    record_security_event(EventType.SSO_ERROR, request=request, success=False, method=METHOD, reason=reason)
    logger.warning("OIDC sign-in failed: %s", reason)
    if end_session and request.user.is_authenticated:
        auth.logout(request)
    return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL_FAILURE)


class AtriumOIDCAuthenticationView(OIDCAuthenticationRequestView):
    """GET /accounts/oidc/login/?next=…: send the browser to the IdP (authorization code, PKCE, state, nonce)."""

    purpose = PURPOSE_SIGN_IN

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_enabled()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get(self, request: HttpRequest) -> HttpResponse:
        problem = configuration_problem()
        if problem:
            return sso_failure(request, f"OIDC is misconfigured: {problem}")
        response: HttpResponse = super().get(request)
        _tag_state(request, response, self.purpose)
        return response


class AtriumOIDCStepUpView(AtriumOIDCAuthenticationView):
    """GET /accounts/oidc/step-up/?next=…: back to the IdP asking for MFA (acr_values) with a fresh sign-in."""

    purpose = PURPOSE_STEP_UP

    def get_extra_params(self, request: HttpRequest) -> dict[str, Any]:
        params = dict(super().get_extra_params(request))
        if settings.OIDC_MFA_REQUEST_ACR:
            params["acr_values"] = settings.OIDC_MFA_REQUEST_ACR
        # A session the IdP already knows would otherwise be answered at once, at the level it already has.
        params["prompt"] = "login"
        return params


class AtriumOIDCCallbackView(OIDCAuthenticationCallbackView):
    """GET /accounts/oidc/callback/: the IdP's answer. Signs the user in, or fails to the sign-in page, never a 500."""

    purpose = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _require_enabled()
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]

    def get(self, request: HttpRequest) -> HttpResponse:
        state = request.GET.get("state", "")
        states = request.session.get(STATES_KEY)
        pending = states.get(state) if state and isinstance(states, dict) else None
        self.purpose = str(pending.get(PURPOSE_KEY, PURPOSE_SIGN_IN)) if isinstance(pending, dict) else ""
        error = request.GET.get("error", "")
        if error:
            return self._idp_error(request, error[:100], state, states if pending is not None else None)
        if pending is None:
            reason = "no state in the callback" if not state else "unknown state (forged, replayed or expired)"
            return sso_failure(request, reason)
        if not request.GET.get("code"):
            return sso_failure(request, "no authorization code in the callback", end_session=True)
        return self._complete(request)

    def _complete(self, request: HttpRequest) -> HttpResponse:
        """The token exchange and user sync (the parent's get), with every way the IdP can fail turned into a reason."""
        reason: str
        try:
            return super().get(request)  # type: ignore[no-any-return]
        except requests.Timeout:
            reason = f"the IdP did not answer within {settings.OIDC_TIMEOUT} s"
        except requests.exceptions.SSLError:
            reason = "the IdP's TLS certificate did not verify"
        except requests.ConnectionError:
            reason = "the IdP could not be reached"
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            reason = f"the IdP answered HTTP {status} to {urlsplit(str(exc.request.url if exc.request else '')).path}"
        except requests.RequestException as exc:  # incl. an answer that is not JSON
            reason = f"the IdP's answer was unusable ({exc.__class__.__name__})"
        except SuspiciousOperation as exc:
            reason = str(exc)  # a bad signature, nonce, issuer or audience
        except (PyJWTError, ValueError, KeyError, TypeError) as exc:
            reason = f"the IdP's token was unusable ({exc.__class__.__name__})"
        except Exception:
            # A sign-in must end on a page that tells the user what happened, whatever broke; the traceback goes
            # to the log for whoever investigates the security event.
            logger.exception("OIDC callback failed unexpectedly")
            reason = "unexpected error (see the log)"
        return sso_failure(request, reason, end_session=True)

    def _idp_error(
        self, request: HttpRequest, error: str, state: str, states: dict[str, Any] | None
    ) -> HttpResponseRedirect:
        description = request.GET.get("error_description", "")[:150]
        if states is not None:
            # A state is good for one answer, an error included, so it cannot be replayed.
            del states[state]
            request.session.modified = True
        if states is not None and self.purpose == PURPOSE_RENEW and error in SILENT_RENEWAL_ERRORS:
            return self._renewal_refused(request, error)
        # Only end the session for an answer to a request this browser made; otherwise any page could sign a
        # user out by linking to the callback with an error.
        reason = f"the IdP answered {error}" + (f": {description}" if description else "")
        return sso_failure(request, reason, end_session=states is not None)

    def _renewal_refused(self, request: HttpRequest, error: str) -> HttpResponseRedirect:
        """The IdP session ended (timeout, sign-out elsewhere): sign out here too and offer to sign in again."""
        next_url = request.session.get(SESSION_NEXT) or resolve_url(settings.LOGIN_REDIRECT_URL)
        record_security_event(
            EventType.SESSION_EXPIRED, request=request, method=METHOD, reason=f"IdP session ended ({error})"
        )
        auth.logout(request)
        messages.info(request, "Your single sign-on session has ended. Please sign in again.")
        return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")

    def login_success(self) -> HttpResponse:
        request = self.request
        reauthenticated = request.user.is_authenticated and request.user == self.user
        idp_mfa = bool(getattr(request, "atrium_idp_mfa", False))
        response: HttpResponse = super().login_success()
        if reauthenticated and idp_mfa and not request.session.get(SESSION_MFA):
            # Step-up or renewal of the same user: the parent does not call login() (that would rotate the CSRF
            # token), so the user_logged_in receiver does not run and MFA is recorded here. A renewal without MFA
            # never takes it away: like a TOTP check, MFA holds for the rest of the session.
            request.session[SESSION_MFA] = "idp"
        if self.purpose == PURPOSE_STEP_UP:
            if not idp_mfa:
                # Back to `next` would only send the user to the IdP again, in a loop.
                record_security_event(
                    EventType.MFA_FAILED, request=request, success=False, method=METHOD, reason="IdP reported no MFA"
                )
                messages.error(
                    request,
                    "Your identity provider did not confirm a second factor, so the page you asked for stays closed. "
                    "Set up MFA with your identity provider, or ask the service desk.",
                )
                return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
            record_security_event(EventType.MFA_PASSED, request=request, method=METHOD, reason="IdP step-up")
        return response

    def login_failure(self) -> HttpResponse:
        # Reached when the backend refused the user (claims, a local account's name, an inactive user, a lockout).
        request = self.request
        if getattr(request, "axes_locked_out", False):
            reason = "locked out after repeated failures"
        else:
            reason = getattr(request, FAILURE_ATTRIBUTE, "") or "the user was refused"
        return sso_failure(request, reason, end_session=True)


# ---------------------------------------------------------------------------------------------------------------
# Silent renewal
# ---------------------------------------------------------------------------------------------------------------
def _setting(name: str, default: Any = None) -> Callable[[Any], Any]:
    return lambda self: getattr(settings, name, default)


class AtriumSessionRefresh(SessionRefresh):
    """Renews the ID token silently (`prompt=none`) once OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS have passed.

    Only for sessions that signed in with OIDC while OIDC is enabled; every other request passes untouched. The
    IdP's answer goes to the callback, which keeps the user signed in or, if the IdP session is over, signs them
    out with a message (never a loop back to the IdP).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # The parent copies the OIDC settings here, once per process. They are read per request instead (the
        # properties below), so the middleware follows the settings (override_settings in tests, too).
        MiddlewareMixin.__init__(self, get_response)

    OIDC_EXEMPT_URLS = property(_setting("OIDC_EXEMPT_URLS", []))
    OIDC_OP_AUTHORIZATION_ENDPOINT = property(_setting("OIDC_OP_AUTHORIZATION_ENDPOINT", ""))
    OIDC_RP_CLIENT_ID = property(_setting("OIDC_RP_CLIENT_ID", ""))
    OIDC_STATE_SIZE = property(_setting("OIDC_STATE_SIZE", 32))
    OIDC_AUTHENTICATION_CALLBACK_URL = property(_setting("OIDC_AUTHENTICATION_CALLBACK_URL", "accounts:oidc-callback"))
    OIDC_RP_SCOPES = property(_setting("OIDC_RP_SCOPES", "openid email"))
    OIDC_USE_NONCE = property(_setting("OIDC_USE_NONCE", True))
    OIDC_NONCE_SIZE = property(_setting("OIDC_NONCE_SIZE", 32))

    @property
    def exempt_urls(self) -> set[str]:
        """Paths never renewed: the sign-in and sign-out pages and the OIDC views themselves (no loops)."""
        names: Iterable[str] = (
            "accounts:oidc-login",
            "accounts:oidc-callback",
            "accounts:oidc-step-up",
            "accounts:login",
            "accounts:logout",
            *(url for url in self.OIDC_EXEMPT_URLS if isinstance(url, str)),
        )
        return {url if url.startswith("/") else reverse(url) for url in names}

    @property
    def exempt_url_patterns(self) -> set[Any]:
        return {url for url in self.OIDC_EXEMPT_URLS if not isinstance(url, str)}

    def is_refreshable_url(self, request: HttpRequest) -> bool:
        if not settings.OIDC_ENABLED or configuration_problem():
            return False
        session = getattr(request, "session", None)
        if session is None or session.get(SESSION_METHOD) != METHOD:
            return False
        return bool(
            request.method == "GET"
            and request.user.is_authenticated
            # An API call cannot follow a redirect to the identity provider; its session ends with a 401 instead.
            and not request.path.startswith("/api/")
            and request.path not in self.exempt_urls
            and not any(pattern.match(request.path) for pattern in self.exempt_url_patterns)
        )

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        response: HttpResponse | None = super().process_request(request)
        if response is not None:
            _tag_state(request, response, PURPOSE_RENEW)
        return response


# ---------------------------------------------------------------------------------------------------------------
# Logout at the IdP
# ---------------------------------------------------------------------------------------------------------------
def idp_logout_url(request: HttpRequest) -> str | None:
    """Where to send the browser to end the session at the IdP (None: no IdP session to end).

    Called before the local logout, while the session still holds the ID token for `id_token_hint`.
    """
    endpoint = settings.OIDC_OP_LOGOUT_ENDPOINT
    id_token = request.session.get(SESSION_ID_TOKEN)
    if not settings.OIDC_ENABLED or not endpoint or not id_token:
        return None
    params = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(resolve_url(settings.LOGOUT_REDIRECT_URL)),
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def provider_logout_url(request: HttpRequest) -> str:
    """OIDC_OP_LOGOUT_URL_METHOD for mozilla-django-oidc's logout view: the IdP's logout, or the local landing page."""
    return idp_logout_url(request) or resolve_url(settings.LOGOUT_REDIRECT_URL)
