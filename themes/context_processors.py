"""Puts the request's display settings (theme, colour mode, sidebar) into every template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .resolution import display_settings


def display(request: HttpRequest) -> dict[str, Any]:
    settings = getattr(request, "display", None) or display_settings(
        getattr(request, "user", None), getattr(request, "section", None)
    )
    return {"display": settings}
