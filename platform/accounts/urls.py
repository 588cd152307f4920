"""URLs under /accounts/: sign-in and out, break-glass, MFA, personal API tokens, and the enabled SSO endpoints."""

from django.urls import URLPattern, URLResolver, include, path

from . import token_views, views

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("break-glass/", views.break_glass, name="break-glass"),
    path("mfa/", views.mfa_verify, name="mfa-verify"),
    path("mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
    # Always routed; the views answer 404 while their protocol is switched off (OIDC_ENABLED, SAML_ENABLED).
    path("oidc/", include("accounts.oidc_urls")),
    path("saml2/", include("accounts.saml_urls")),
]
