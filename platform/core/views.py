"""Platform pages with no domain of their own: the error pages (403, 404, 410, 500)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .security import EventType, record_security_event


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {"status": status, "title": title, "message": message, "request_id": getattr(request, "id", "")},
        status=status,
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: signed in, but not allowed here (recorded as a security event)."""
    record_security_event(
        EventType.PERMISSION_DENIED, request=request, success=False, reason=str(exception or "")[:255]
    )
    return _error_page(
        request, 403, "You do not have access to this page", "Ask the section's owners to add you to its viewers."
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: nothing here (or nothing you may know exists)."""
    return _error_page(request, 404, "Page not found", "The address may be mistyped, or the page has moved.")


def gone(request: HttpRequest, message: str = "") -> HttpResponse:
    """410: the section has been archived."""
    return _error_page(request, 410, "This section has been archived", message or "Its content is no longer served.")


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without a database or template context processors that might themselves be failing."""
    from django.template import loader

    template = loader.get_template("core/500.html")
    return HttpResponse(template.render({"request_id": getattr(request, "id", "")}), status=500)
