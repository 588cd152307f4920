"""The themes Atrium ships: the default and a high-contrast one (also created by migration 0003)."""

from __future__ import annotations

from typing import Any

BUNDLED_THEMES: list[dict[str, Any]] = [
    {
        "slug": "default",
        "name": "Atrium",
        "description": "The platform default: Bootstrap's look with Atrium blue.",
        "primary": "#0b5ed7",
        "secondary": "#5c636a",
        "primary_dark": "#6ea8fe",
        "secondary_dark": "#a7acb1",
        "package": "default",
        "is_default": True,
    },
    {
        "slug": "high-contrast",
        "name": "High contrast",
        "description": "Maximum contrast, underlined links and strong focus outlines.",
        "primary": "#0033a0",
        "secondary": "#1a1a1a",
        "primary_dark": "#9ec5fe",
        "secondary_dark": "#e6e6e6",
        "package": "high-contrast",
        "is_default": False,
    },
]


def ensure_bundled_themes(theme_model: Any) -> int:
    """Create the bundled themes that are missing (never changes existing ones); returns how many it created."""
    created = 0
    for bundled in BUNDLED_THEMES:
        if theme_model.objects.filter(slug=bundled["slug"]).exists():
            continue
        values = dict(bundled)
        if values["is_default"] and theme_model.objects.filter(is_default=True).exists():
            values["is_default"] = False
        theme_model.objects.create(**values)
        created += 1
    return created
