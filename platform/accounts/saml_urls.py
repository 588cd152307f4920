"""URLs for SAML single sign-on, under /accounts/saml2/ (the views answer 404 while SAML_ENABLED is off).

The ACS and logout-service paths are also written into the SP metadata by accounts.saml_config; keep them equal.
"""

from django.urls import URLPattern, path

from . import saml

urlpatterns: list[URLPattern] = [
    path("login/", saml.LoginView.as_view(), name="saml-login"),
    path("step-up/", saml.StepUpView.as_view(), name="saml-step-up"),
    path("acs/", saml.AssertionConsumerServiceView.as_view(), name="saml-acs"),
    path("metadata/", saml.MetadataView.as_view(), name="saml-metadata"),
    path("logout/", saml.LogoutInitView.as_view(), name="saml-logout"),
    path("ls/", saml.LogoutServiceView.as_view(), name="saml-ls"),
    path("ls/post/", saml.LogoutServiceView.as_view(), name="saml-ls-post"),
]
