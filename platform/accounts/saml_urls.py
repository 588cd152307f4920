"""URLs for SAML single sign-on, under /accounts/saml2/."""

urlpatterns: list = []
