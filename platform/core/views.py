"""Platform pages with no domain of their own: the error pages (400, 403, 404, 410, 500).

Under /api/ the same handlers answer with an RFC 9457 problem document instead of a page, so an API client gets
one error format whether DRF or Django produced the error.
"""

from __future__ import annotations

import sys

from django.core.exceptions import SuspiciousOperation
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views import defaults

from .security import EventType, record_security_event
from .views_showcase import problem

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


_API_CODES = {400: "bad_request", 403: "permission_denied", 404: "not_found", 500: "server_error"}


def _api_problem(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    # The same members as the API's own problems (api.errors), so a client reads one format.
    return problem(
        status, detail, instance=request.path, request_id=getattr(request, "id", ""), code=_API_CODES[status]
    )


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": status, "title": title, "message": message, "request_id": getattr(request, "id", "")},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: a request Django refused before any view, e.g. a SuspiciousOperation (a Host not in ALLOWED_HOSTS, a
    malformed session or multipart body). Django has already logged it on `django.security`; the exception's text
    is not shown, it may echo what the caller sent."""
    if _is_api(request):
        return _api_problem(request, 400, "The request is malformed or was refused as suspicious.")
    # Django's own plain page: the site's layout may itself read what was refused (the Host, the session).
    return defaults.bad_request(request, exception or SuspiciousOperation())


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: signed in, but not allowed here (recorded as a security event)."""
    record_security_event(
        EventType.PERMISSION_DENIED, request=request, success=False, reason=str(exception or "")[:255]
    )
    if _is_api(request):
        return _api_problem(request, 403, "You do not have permission to perform this action.")
    return _error_page(
        request, 403, "You do not have access to this page", "Ask the section's owners to add you to its viewers."
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: nothing here (or nothing you may know exists)."""
    if _is_api(request):
        return _api_problem(request, 404, "There is no API endpoint or object at this address.")
    return _error_page(request, 404, "Page not found", "The address may be mistyped, or the page has moved.")


def gone(request: HttpRequest, message: str = "") -> HttpResponse:
    """410: the section has been archived."""
    return _error_page(request, 410, "This section has been archived", message or "Its content is no longer served.")


# MariaDB client errors that mean the connection to the database was lost or could not be made (a Galera node
# failing under HAProxy): 2002/2003 cannot connect, 2006 server gone away, 2013 lost connection, 4031 disconnected.
DATABASE_CONNECTION_LOST = frozenset({2002, 2003, 2006, 2013, 4031})


def database_connection_lost() -> bool:
    """Whether the exception being handled is a lost database connection (server_error runs inside the except)."""
    exc = sys.exc_info()[1]
    return isinstance(exc, OperationalError) and bool(exc.args) and exc.args[0] in DATABASE_CONNECTION_LOST


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without a database or template context processors that might themselves be failing.

    A lost database connection answers 503 with Retry-After instead: the next connection goes to a working node
    (HAProxy), so nginx passes an idempotent request on to the other instance (proxy_next_upstream http_503) and
    API clients know to retry; Django drops the broken connection at the end of the request.
    """
    if database_connection_lost():
        response: HttpResponse
        if _is_api(request):
            response = problem(
                503,
                "The database connection was lost; retry the request.",
                instance=request.path,
                request_id=getattr(request, "id", ""),
                code="database_unavailable",
            )
        else:
            response = HttpResponse(
                "The service is briefly unavailable. Please try again.", status=503, content_type="text/plain"
            )
        response["Retry-After"] = "1"
        return response
    if _is_api(request):
        return _api_problem(request, 500, "The server failed to answer. Quote the request id when you report it.")
    from django.template import loader

    template = loader.get_template("core/500.html")
    return HttpResponse(template.render({"request_id": getattr(request, "id", "")}), status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """GET /favicon.ico: browsers ask for it on responses with no <link rel="icon"> (API JSON, downloads)."""
    return HttpResponsePermanentRedirect(static("core/img/favicon.svg"))
