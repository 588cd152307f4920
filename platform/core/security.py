"""Recording security events from anywhere: `record_security_event(...)` sends `core.signals.security_event`.

The accounts app receives it, stores a SecurityEvent row and writes a JSON line to the `atrium.security` log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .signals import security_event


class EventType:
    """The kinds of security event (string constants, so any app can name them without importing models)."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    MFA_REQUIRED = "mfa_required"
    MFA_PASSED = "mfa_passed"
    MFA_FAILED = "mfa_failed"
    PERMISSION_DENIED = "permission_denied"
    SECTION_DENIED = "section_denied"
    ADMIN_GRANTED = "admin_granted"
    ADMIN_REVOKED = "admin_revoked"
    AUDITOR_GRANTED = "auditor_granted"
    AUDITOR_REVOKED = "auditor_revoked"
    BREAK_GLASS = "break_glass"
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    DIRECTORY_SYNC = "directory_sync"
    USER_DEACTIVATED = "user_deactivated"
    SSO_ERROR = "sso_error"
    TOKEN_CREATED = "token_created"  # noqa: S105 - an event name, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105
    EXPORT = "export"
    RETENTION_PURGE = "retention_purge"
    ALERT_RAISED = "alert_raised"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    CONFIG_REVERTED = "config_reverted"
    BUNDLE_IMPORTED = "bundle_imported"


def record_security_event(
    event_type: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    success: bool = True,
    method: str = "",
    reason: str = "",
    section: Any = None,
    **detail: Any,
) -> None:
    """Record one security event; the request (if any) supplies IP, user agent, request id and section."""
    security_event.send(
        sender=record_security_event,
        event_type=event_type,
        request=request,
        user=user,
        username=username,
        success=success,
        method=method,
        reason=reason,
        section=section,
        detail=detail,
    )
