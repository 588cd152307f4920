"""URLs for OIDC single sign-on, under /accounts/oidc/."""

urlpatterns: list = []
