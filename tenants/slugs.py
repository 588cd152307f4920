"""Which section slugs are allowed: a section lives at /<slug>/, so it must not shadow a platform route."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# The first path segment of every platform route, and names kept for routes still to come.
RESERVED_SLUGS = frozenset(
    {
        "-", "about", "accounts", "admin", "analytics", "api", "audit", "catalog", "components", "docs", "favicon.ico",
        "feedback", "health", "help", "jobs", "login", "logout", "media", "metrics", "oidc", "preferences",
        "reports", "robots.txt", "saml2", "search", "sections", "static", "users",
    }
)  # fmt: skip

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,48}[a-z0-9]$")


def validate_section_slug(value: str) -> None:
    """Refuse slugs that are malformed or collide with a platform route, with a message a person can act on."""
    if value in RESERVED_SLUGS:
        raise ValidationError(
            "“%(slug)s” is reserved for the platform's own pages; choose another slug.",
            code="reserved",
            params={"slug": value},
        )
    if not SLUG_PATTERN.match(value or ""):
        raise ValidationError(
            "Use 2–50 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.",
            code="invalid",
        )
