"""Resolves the section a request is for (from its host name or first path segment) and scopes the request to it.

Sets `request.section` (a Section or None) and the current-section ContextVar that section-scoped managers read.
It never refuses a request itself: the section views decide between 404, 403 and 410.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.context import reset_current_section, set_current_section

from .lookups import section_by_host, section_by_slug
from .models import Section
from .permissions import forget_generation_memo
from .slugs import RESERVED_SLUGS, SLUG_PATTERN

HOST_URLCONF = "atrium.host_urls"


def section_for_request(request: HttpRequest) -> tuple[Section | None, bool]:
    """The request's section and whether it was found by host name (which serves the section at /)."""
    host = request.get_host().split(":", 1)[0].lower()
    if host:
        section = section_by_host(host)
        if section is not None:
            return section, True
    first = request.path_info.lstrip("/").split("/", 1)[0]
    if first in RESERVED_SLUGS or not SLUG_PATTERN.match(first):
        return None, False
    return section_by_slug(first), False


class SectionMiddleware:
    """Puts the request's section on `request.section` and in the ContextVar for the request's duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        section, by_host = section_for_request(request)
        request.section = section  # type: ignore[attr-defined]
        if by_host:
            request.urlconf = HOST_URLCONF  # type: ignore[attr-defined]
        token = set_current_section(section)
        try:
            return self.get_response(request)
        finally:
            reset_current_section(token)
            forget_generation_memo()
