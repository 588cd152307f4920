"""URLs for OIDC single sign-on, under /accounts/oidc/ (names in the `accounts` namespace).

Always routed; the views answer 404 while OIDC_ENABLED is off. The view classes come from the settings
OIDC_AUTHENTICATE_CLASS and OIDC_CALLBACK_CLASS (mozilla-django-oidc's names for them), so a deployment that
must adapt them can do so without changing this file.
"""

from django.conf import settings
from django.urls import URLPattern, path
from django.utils.module_loading import import_string

from .oidc import AtriumOIDCStepUpView

urlpatterns: list[URLPattern] = [
    # ?next=… is where the browser returns after signing in (checked to stay on this site).
    path("login/", import_string(settings.OIDC_AUTHENTICATE_CLASS).as_view(), name="oidc-login"),
    path("callback/", import_string(settings.OIDC_CALLBACK_CLASS).as_view(), name="oidc-callback"),
    # Where accounts.mfa.step_up_url sends OIDC users who need MFA for a page: back to the IdP asking for it.
    path("step-up/", AtriumOIDCStepUpView.as_view(), name="oidc-step-up"),
]
