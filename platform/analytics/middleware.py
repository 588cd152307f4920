"""Records page views: for a signed-in user's GET of a tracked path, marks the request with a new view id before
the view runs (the page puts its signed token in the beacon's data attribute), and after a successful HTML
response queues the view in the per-process buffer (analytics.buffer). No database write happens here.

Placed right after tenants' SectionMiddleware, so `request.section` is known and the response time covers the
rest of the stack, the view and the template.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from . import buffer
from .tracking import ViewMark, has_opted_out, is_recording, is_tracked_path, pseudonym_for, referrer_path


def wants_recording(request: HttpRequest) -> bool:
    """Before the view: is this a page view we record? (Cheapest tests first: most requests stop early.)"""
    if request.method != "GET" or not settings.ANALYTICS_ENABLED:
        return False
    if not is_tracked_path(request.path) or not is_recording():
        return False
    # Link prefetches and prerenders are not views by a person. (META, not request.headers: building that mapping
    # would cost more than the whole test.)
    if request.META.get("HTTP_SEC_PURPOSE", "").startswith(("prefetch", "prerender")):
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return not has_opted_out(user.pk)


def is_page(response: HttpResponse) -> bool:
    """After the view: a successful, complete HTML page (not a redirect, an error, JSON or a file)."""
    return (
        200 <= response.status_code < 300
        and response.status_code != 204
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
    )


def referrer_of(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    return referrer_path(referer, request.get_host()) if referer else ""


def view_row(request: HttpRequest, response: HttpResponse, mark: ViewMark) -> dict[str, object]:
    """The PageView field values of this request, as plain values (model instances are built at flush)."""
    match = request.resolver_match
    section = getattr(request, "section", None)
    return {
        "public_id": mark.id,
        "user_id": mark.user_id,
        "pseudonym": pseudonym_for(mark.user_id),
        "section_id": section.pk if section is not None else None,
        "route_name": (match.view_name if match is not None else "")[:200],
        # The path only: query strings (searches, filters) may hold personal data.
        "path": request.path[:500],
        "referrer_path": referrer_of(request),
        "started": datetime.fromtimestamp(mark.started, tz=UTC),
        "response_ms": max(0, round((time.perf_counter() - mark.clock) * 1000)),
        "status": response.status_code,
    }


class PageViewMiddleware:
    """Marks tracked requests with `request.analytics_view` and buffers their page views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not wants_recording(request):
            return self.get_response(request)
        mark = ViewMark(id=uuid.uuid4(), user_id=request.user.pk or 0, started=time.time(), clock=time.perf_counter())
        request.analytics_view = mark  # type: ignore[attr-defined]
        response = self.get_response(request)
        if is_page(response):
            buffer.record_view(view_row(request, response, mark))
        return response
