"""System check: every top-level platform route must be a reserved section slug, or a section could hide it."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from .slugs import RESERVED_SLUGS


def _first_segments() -> set[str]:
    segments = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLPattern | URLResolver):
            route = str(pattern.pattern).lstrip("^")
            head = route.split("/", 1)[0]
            if head and "<" not in head and "(" not in head:
                segments.add(head)
    return segments


@checks.register(checks.Tags.urls)
def check_reserved_slugs(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report platform routes whose first segment is not reserved."""
    missing = sorted(_first_segments() - RESERVED_SLUGS)
    return [
        checks.Error(
            f"Platform route prefix '{name}/' is not in tenants.slugs.RESERVED_SLUGS; a section could shadow it.",
            id="tenants.E001",
        )
        for name in missing
    ]
