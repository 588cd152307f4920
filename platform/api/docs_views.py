"""The API's documentation pages: Swagger UI at /api/docs/ and Redoc at /api/redoc/, for signed-in users.

Both are served from /static/ (drf-spectacular-sidecar), never a CDN. Neither page has an inline script or style:
each page's start-up code is a static file that reads its settings from data attributes. One exception to the
strict CSP, on the Redoc page only: Redoc injects its styles at run time, some of them while its bundle loads,
before any CSP nonce could be handed to it, so that page allows inline *styles* (never scripts), and blob: workers for
Redoc's search. It shows nothing but the schema, which the code writes: no user input can inject styles there.
"""

from __future__ import annotations

from typing import Any

from csp.constants import SELF, UNSAFE_INLINE
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

# Redoc's search runs in a worker it builds from a blob: URL (from its own bundle, already allowed as a script).
REDOC_CSP = {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


class ApiSchemaView(SpectacularAPIView):
    """GET /api/schema/: the OpenAPI 3 document (YAML, or JSON with ?format=json or Accept: application/json)."""


class _SignedInPage:
    """A documentation page: people who are not signed in are sent to the sign-in page, like every other page."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)  # type: ignore[misc]


class SwaggerDocsView(_SignedInPage, SpectacularSwaggerView):
    """GET /api/docs/: Swagger UI, to read the API and try it with the browser's session."""

    template_name = "api/swagger_ui.html"
    url_name = "api:schema"


class RedocDocsView(_SignedInPage, SpectacularRedocView):
    """GET /api/redoc/: the same schema, as a readable reference."""

    template_name = "api/redoc.html"
    url_name = "api:schema"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().get(request, *args, **kwargs)
        response._csp_replace = REDOC_CSP  # type: ignore[attr-defined]
        return response
