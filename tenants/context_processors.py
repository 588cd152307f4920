"""Template context for the header: the sections the user may visit (the section switcher)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .permissions import visitable_sections


def sections(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"user_sections": visitable_sections(user) if user is not None else []}
