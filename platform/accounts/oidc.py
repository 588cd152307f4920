"""OIDC single sign-on (being written; enabled with OIDC_ENABLED=true)."""

from __future__ import annotations

from django.http import HttpRequest


def idp_logout_url(request: HttpRequest) -> str | None:
    """Where to send the browser to end the session at the IdP (None: no IdP session to end)."""
    return None
