"""Resolves the request's display settings once (theme, colour mode) and activates its theme package's templates."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .loaders import active_package
from .resolution import display_settings


class ThemeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        display = display_settings(request.user, getattr(request, "section", None))
        request.display = display  # type: ignore[attr-defined]
        token = active_package.set(display.theme.package if display.theme else "")
        try:
            return self.get_response(request)
        finally:
            active_package.reset(token)
