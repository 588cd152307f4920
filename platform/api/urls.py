"""URLs under /api/: the versioned API (/api/v1/), its schema and documentation, and the usage page.

Each app lists its endpoints in `<app>/api/routes.py` as `ROUTES = [Route(prefix, viewset, basename), …]`; this
module only collects them from the installed apps. Every API view is wrapped by the usage audit (`with_usage`), so
an endpoint cannot be added without being recorded and measured.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.urls import URLPattern, URLResolver, include, path
from django.utils.module_loading import module_has_submodule
from rest_framework.routers import DefaultRouter

from .docs_views import ApiSchemaView, RedocDocsView, SwaggerDocsView
from .routes import Route
from .usage import recorded, with_usage
from .usage_api import ApiUsageViewSet
from .usage_views import usage_page

app_name = "api"


class ApiRouter(DefaultRouter):
    """DefaultRouter (with its root listing at /api/v1/) using path converters and no `.json` suffix routes."""

    include_format_suffixes = False

    def __init__(self) -> None:
        super().__init__(use_regex_path=False)


def app_routes() -> list[Route]:
    """Every installed app's `api/routes.py` ROUTES, in INSTALLED_APPS order."""
    found: list[Route] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "api") and module_has_submodule(
            import_module(f"{config.name}.api"), "routes"
        ):
            found += import_module(f"{config.name}.api.routes").ROUTES
    return found


router = ApiRouter()
for route in [*app_routes(), Route("usage", ApiUsageViewSet, "usage-record")]:
    router.register(route.prefix, route.viewset, basename=route.basename)

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/", include(with_usage(router.urls))),
    path("schema/", recorded(ApiSchemaView.as_view()), name="schema"),
    path("docs/", SwaggerDocsView.as_view(), name="docs"),
    path("redoc/", RedocDocsView.as_view(), name="redoc"),
    path("usage/", usage_page, name="usage"),
]
