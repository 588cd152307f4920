"""The test IdP's OIDC behaviour: Atrium's claims (groups, names, amr/acr) and silent sign-in (`prompt=none`).

MFA is simulated: an authorization request that asks for `acr_values=mfa` (Atrium's step-up) is answered with
`amr: ["pwd", "mfa", "otp"]` and `acr: "mfa"`, any other with `amr: ["pwd"]` and `acr: "pwd"`, so tests can
see both a session without MFA and one after a step-up.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator

MFA_ACR = "mfa"
# Where the authorization request's wish for MFA travels to the token request: the grant's stored `claims`
# (the token request itself carries only the code).
MFA_MARKER = "atrium_test_idp_mfa"


class TestIdPValidator(OAuth2Validator):
    """django-oauth-toolkit's validator with the claims Atrium reads and silent sign-in switched on."""

    # django-oauth-toolkit only releases claims that map to a granted scope.
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
        "amr": "openid",
        "acr": "openid",
    }

    def save_authorization_code(
        self, client_id: str, code: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if MFA_ACR in (request.acr_values or "").split():
            request.claims = {**(request.claims or {}), MFA_MARKER: True}
        super().save_authorization_code(client_id, code, request, *args, **kwargs)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        used_mfa = bool((getattr(request, "claims", None) or {}).get(MFA_MARKER))
        return {
            "preferred_username": user.username,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "name": f"{user.first_name} {user.last_name}".strip(),
            "email": user.email,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "amr": ["pwd", "mfa", "otp"] if used_mfa else ["pwd"],
            "acr": MFA_ACR if used_mfa else "pwd",
        }

    # oauthlib asks these for `prompt=none` and django-oauth-toolkit leaves them unimplemented (NotImplementedError,
    # DOT PR #1361). The authorization view only gets here for a signed-in user (it answers login_required for
    # anyone else), and the test application is pre-approved, so silent sign-in is allowed.
    def validate_silent_login(self, request: Any) -> bool:
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        return bool(getattr(request.client, "skip_authorization", False))
