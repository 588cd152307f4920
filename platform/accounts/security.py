"""Stores security events (SecurityEvent rows) and writes each as one JSON line to the `atrium.security` log.

Also turns Django's and django-axes' authentication signals into security events, so every sign-in path
(mock, LDAP, SSO, break-glass) is recorded the same way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from core.context import current_request_id, current_section
from core.net import client_ip
from core.security import EventType
from core.signals import security_event

from .mfa import SESSION_METHOD, SESSION_MFA
from .middleware import SESSION_AUTH_TIME, SESSION_LAST_SEEN
from .models import SecurityEvent

logger = logging.getLogger("atrium.security")

# Events worth waking someone for are logged at CRITICAL; failures at WARNING; the rest at INFO.
CRITICAL_EVENTS = {EventType.BREAK_GLASS}


def _truncate(value: Any, length: int) -> str:
    return str(value or "")[:length]


@receiver(security_event)
def store_security_event(
    sender: Any,
    event_type: str,
    request: HttpRequest | None,
    user: Any,
    username: str,
    success: bool,
    method: str,
    reason: str,
    section: Any,
    detail: dict[str, Any],
    **kwargs: Any,
) -> SecurityEvent:
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    if section is None:
        section = getattr(request, "section", None) if request is not None else current_section()
    event = SecurityEvent(
        event_type=event_type,
        success=success,
        user=user if getattr(user, "pk", None) else None,
        username=_truncate(username or getattr(user, "username", ""), 150),
        method=_truncate(method or _session_method(request), 20),
        reason=_truncate(reason, 255),
        ip_address=(client_ip(request) or None) if request is not None else None,
        user_agent=_truncate(request.headers.get("User-Agent", "") if request is not None else "", 500),
        section_slug=_truncate(getattr(section, "slug", section or ""), 50),
        request_id=_truncate(current_request_id() if current_request_id() != "-" else "", 128),
        path=_truncate(request.path if request is not None else "", 500),
        detail={k: v for k, v in detail.items() if isinstance(v, str | int | float | bool | list | dict | None)},
    )
    event.save()
    level = logging.CRITICAL if event_type in CRITICAL_EVENTS else (logging.INFO if success else logging.WARNING)
    logger.log(
        level,
        "security event %s",
        event_type,
        extra={
            "event": event_type,
            "success": success,
            "user": event.username,
            "method": event.method,
            "reason": event.reason,
            "ip": event.ip_address,
            "user_agent": event.user_agent,
            "section": event.section_slug,
            "path": event.path,
            "event_id": event.pk,
        },
    )
    return event


def _session_method(request: HttpRequest | None) -> str:
    session = getattr(request, "session", None)
    return str(session.get(SESSION_METHOD, "")) if session is not None else ""


def _record(event_type: str, **kwargs: Any) -> None:
    from core.security import record_security_event

    record_security_event(event_type, **kwargs)


BACKEND_METHODS = {
    "accounts.backends.MockDirectoryBackend": "mock",
    "accounts.ldap_backend.AtriumLDAPBackend": "ldap",
    "accounts.oidc.AtriumOIDCBackend": "oidc",
    "accounts.saml.AtriumSaml2Backend": "saml",
    "accounts.backends.BreakGlassBackend": "local",
}


@receiver(user_logged_in)
def on_signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Remember how the user signed in and whether the IdP already did MFA; start the session clocks."""
    if request is None:
        return
    method = BACKEND_METHODS.get(getattr(user, "backend", ""), getattr(user, "source", ""))
    request.session[SESSION_METHOD] = method
    if getattr(request, "atrium_idp_mfa", False):
        request.session[SESSION_MFA] = "idp"
    else:
        request.session.pop(SESSION_MFA, None)
    now = int(time.time())
    request.session[SESSION_AUTH_TIME] = now
    request.session[SESSION_LAST_SEEN] = now
    _record(EventType.SIGN_IN, request=request, user=user, method=method)


@receiver(user_logged_out)
def on_signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    _record(EventType.SIGN_OUT, request=request, user=user)


def attempted_method(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str:
    """How a refused sign-in was tried (the session records the method only after a success), for the sign-in
    metrics: from what was passed to authenticate(), else from the view, else the password form's directory."""
    credentials = credentials or {}
    if "session_info" in credentials:
        return "saml"
    if "nonce" in credentials:
        return "oidc"
    if credentials.get("break_glass"):
        return "local"
    url_name = str(getattr(getattr(request, "resolver_match", None), "url_name", "") or "")
    if url_name == "break-glass":
        return "local"
    if url_name.startswith(("oidc-", "saml-")):
        return url_name.split("-", 1)[0]
    return str(getattr(settings, "ATRIUM_DIRECTORY", ""))  # the sign-in form: mock or ldap


@receiver(user_login_failed)
def on_sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    reason = "directory unavailable" if getattr(request, "atrium_directory_unavailable", False) else "bad credentials"
    _record(
        EventType.SIGN_IN_FAILED,
        request=request,
        username=_truncate(credentials.get("username", ""), 150),
        success=False,
        reason=reason,
        method=attempted_method(request, credentials),
    )


@receiver(user_locked_out)
def on_locked_out(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    _record(
        EventType.LOCKED_OUT,
        request=request,
        username=username or "",
        success=False,
        reason="too many failures",
        method=attempted_method(request),
    )
