"""Template context shared by every page: environment banner, version, live banner text."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .live import LiveSettings
from .registry import platform_menu

LIVE_SETTINGS = LiveSettings()


def platform(request: HttpRequest) -> dict[str, Any]:
    """Values the base layout needs on every page."""
    return {
        "atrium_env": settings.ATRIUM_ENV,
        "atrium_env_banner": settings.ATRIUM_BANNERS.get(settings.ATRIUM_ENV),
        "atrium_version": settings.ATRIUM_VERSION,
        "live_settings": LIVE_SETTINGS,
        "current_section": getattr(request, "section", None),
        # Callables: templates call them only when the (usually cached) header is actually rendered.
        "platform_menu": functools.partial(platform_menu, getattr(request, "user", None)),
        "header_key": _header_key(request),
    }


def _header_key(request: HttpRequest) -> str:
    """What the cached header depends on: the user and their groups, the section, the colour settings, the
    sections generation (sections, roles and themes), and the browser's CSRF cookie (the sign-out form's token)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    from tenants.permissions import sections_generation

    display = getattr(request, "display", None)
    section = getattr(request, "section", None)
    return "|".join(
        map(
            str,
            [
                user.pk,
                user.get_full_name(),
                user.group_ids(),
                sections_generation(),
                getattr(section, "pk", ""),
                getattr(display, "colour_mode", ""),
                getattr(display, "mode_locked", ""),
                getattr(getattr(display, "theme", None), "pk", ""),
                request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
            ],
        )
    )
