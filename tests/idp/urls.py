"""URLs of the test identity provider: the OAuth 2 / OIDC endpoints under /o/ and a plain sign-in page."""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from oauth2_provider import urls as oauth2_urls

# Only the endpoints an OIDC relying party uses; no application management pages.
oidc_patterns = [*oauth2_urls.base_urlpatterns, *oauth2_urls.oidc_urlpatterns]

urlpatterns: list[URLPattern | URLResolver] = [
    path("o/", include((oidc_patterns, "oauth2_provider"))),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
]
