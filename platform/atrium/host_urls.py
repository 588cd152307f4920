"""URL configuration for requests that arrive on a section's own host name: the section is served at /."""

from django.urls import include, path

from tenants import views as tenant_views

from .urls import handler403, handler404, handler500, platform_patterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    *[p for p in platform_patterns if getattr(p, "name", None) != "home"],
    path("sections/", tenant_views.home, name="home"),
    # The section at / (its home and pages), and under /<slug>/ too, so links built with reverse() work here.
    path("", include(("tenants.urls", "tenants"), namespace="host-section")),
    path("<slug:section_slug>/", include("tenants.urls")),
]
