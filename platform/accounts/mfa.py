"""Multi-factor rules: when a request needs MFA, whether the session has it, and where to get it.

A session has MFA when the IdP said so at sign-in (OIDC `amr`/`acr`, SAML AuthnContextClassRef), or when the
user verified a TOTP code in this session (django-otp). Where it is missing, the user is sent to the step-up
that fits how they signed in: back to their IdP asking for MFA, or to the TOTP page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

SESSION_MFA = "atrium_mfa"  # how MFA was satisfied in this session: "idp" or "totp"
SESSION_METHOD = "atrium_auth_method"  # how the user signed in: mock, ldap, oidc, saml, local


def has_mfa(request: HttpRequest) -> bool:
    """Did this session pass a second factor?"""
    if not request.user.is_authenticated:
        return False
    if request.session.get(SESSION_MFA):
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def step_up_url(request: HttpRequest, next_url: str) -> str:
    """Where to send a signed-in user who needs MFA for `next_url`."""
    method = request.session.get(SESSION_METHOD, "")
    query = urlencode({"next": next_url})
    if method == "oidc":
        return f"{reverse('accounts:oidc-step-up')}?{query}"
    if method == "saml":
        return f"{reverse('accounts:saml-step-up')}?{query}"
    return f"{reverse('accounts:mfa-verify')}?{query}"
