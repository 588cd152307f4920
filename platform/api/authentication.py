"""How an API call says who it is: a personal token (`Authorization: Bearer atr_…`) or the browser's session.

Token authentication comes first, so an unauthenticated call gets 401 with a `WWW-Authenticate: Bearer`
challenge (DRF answers 403 when the first class offers no challenge). Session authentication is DRF's: CSRF is
enforced on every write, so a page's session cannot be used by another site's form.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken
from accounts.tokens import TokenRejected, authenticate_token
from core.net import client_ip
from core.security import EventType, record_security_event

KEYWORD = "Bearer"


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`: the token's user, with the token as `request.auth` (its limits apply)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: the session may still authenticate the call
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        address = client_ip(request._request)
        try:
            token = authenticate_token(plaintext, client_ip=address)
        except TokenRejected as rejected:
            _record_rejection(request, rejected)
            raise exceptions.AuthenticationFailed(rejected.detail) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="api"'


class ApiSessionAuthentication(SessionAuthentication):
    """The signed-in browser session (the Swagger UI, the pages' own scripts), with CSRF on every write."""


def _record_rejection(request: Request, rejected: TokenRejected) -> None:
    """A refused token is a failed sign-in: the alert rules count them per account and per address."""
    token = rejected.token
    record_security_event(
        EventType.SIGN_IN_FAILED,
        request=request._request,
        user=token.user if token is not None else None,
        success=False,
        method="token",
        reason=rejected.reason,
        token=token.prefix if token is not None else "",
    )


def token_of(request: Any) -> ApiToken | None:
    """The token the call was authenticated with (None for the session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None
