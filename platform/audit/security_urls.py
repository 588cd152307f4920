"""URLs under /audit/security/: the security-event browser, its data and exports, and per-user timelines."""

from django.urls import URLPattern, URLResolver, path

from . import security_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", security_views.security_events, name="security-events"),
    path("data/", security_views.security_events_data, name="security-events-data"),
    path("export/<str:fmt>/", security_views.security_events_export, name="security-events-export"),
    # <path:>, not <str:>: a failed sign-in records whatever name was typed, slashes included.
    path("users/<path:username>/", security_views.security_user, name="security-user"),
]
