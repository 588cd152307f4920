"""Template context for the header: the sections the user may visit (the section switcher)."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest

from .permissions import visitable_sections


def sections(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    # A callable: the template calls it only when the (usually cached) header is actually rendered.
    return {"user_sections": functools.partial(visitable_sections, user) if user is not None else []}
