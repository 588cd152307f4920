"""Which theme and colour mode a request uses: platform default → section default → the user's own choice.

A section can lock its colour mode, which then wins over the user's choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from core.cache import versioned_get

from .models import ColourMode, Theme, UserPreference

THEME_TIMEOUT = 300


@dataclass(frozen=True)
class DisplaySettings:
    theme: Theme | None
    colour_mode: str
    mode_locked: bool
    sidebar_collapsed: bool


def default_theme() -> Theme | None:
    """The platform default theme; theme changes move the sections generation, which is part of the key."""
    from tenants.permissions import sections_generation

    key = f"themes:default:g{sections_generation()}"
    cached = versioned_get(
        key, lambda: Theme.objects.filter(is_default=True).first() or Theme.objects.order_by("pk").first() or "-"
    )
    return cached if isinstance(cached, Theme) else None


def forget_default_theme() -> None:
    from tenants.permissions import bump_sections_generation

    bump_sections_generation()


def user_preference(user: Any) -> UserPreference | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_atrium_preference", None)
    if cached is None:
        key = f"themes:pref:{user.pk}"
        cached = cache.get(key)
        if cached is None:
            cached = UserPreference.objects.filter(user=user).select_related("theme").first() or "-"
            cache.set(key, cached, THEME_TIMEOUT)
        user._atrium_preference = cached
    return cached if isinstance(cached, UserPreference) else None


def forget_user_preference(user: Any) -> None:
    cache.delete(f"themes:pref:{user.pk}")
    user.__dict__.pop("_atrium_preference", None)


def display_settings(user: Any, section: Any = None) -> DisplaySettings:
    """The theme and colour mode to render with, following the layers."""
    preference = user_preference(user)
    theme = default_theme()
    mode: str = ColourMode.AUTO
    locked = False
    if section is not None:
        theme = section.default_theme or theme
        if getattr(section, "default_colour_mode", ""):
            mode = section.default_colour_mode
        locked = bool(getattr(section, "lock_colour_mode", False))
    if preference is not None:
        if preference.theme is not None and not (section is not None and section.default_theme_id and locked):
            theme = preference.theme
        if preference.colour_mode and not locked:
            mode = preference.colour_mode
    return DisplaySettings(
        theme=theme,
        colour_mode=mode,
        mode_locked=locked,
        sidebar_collapsed=bool(preference and preference.sidebar_collapsed),
    )
