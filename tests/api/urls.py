"""A test-only URL configuration: the real routes, plus a few API views that fail or ingest on purpose."""

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"


class Boom(APIView):
    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in an API view")


class DatabaseGone(APIView):
    def get(self, request: Request) -> Response:
        raise OperationalError(2006, "Server has gone away")


def page_database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError(2013, "Lost connection to server during query")


def page_syntax_error(request: HttpRequest) -> HttpResponse:
    raise OperationalError(1054, "Unknown column")


class Ingest(APIView):
    """Stands in for the ingestion endpoints still to come: they declare the `ingest` throttle scope."""

    throttle_scope = "ingest"

    def post(self, request: Request) -> Response:
        return Response({"accepted": True}, status=202)


def plain_django_forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("not for you")


urlpatterns = [
    path("api/test/boom/", Boom.as_view()),
    path("api/test/ingest/", Ingest.as_view()),
    path("api/test/forbidden/", plain_django_forbidden),
    path("api/test/database-gone/", DatabaseGone.as_view()),
    path("test/database-gone/", page_database_gone),
    path("test/database-error/", page_syntax_error),
    path("", include("atrium.urls")),
]
