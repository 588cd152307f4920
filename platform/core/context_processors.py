"""Template context shared by every page: environment banner, version, live banner text."""

from __future__ import annotations

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
        "platform_menu": platform_menu(getattr(request, "user", None)),
    }
