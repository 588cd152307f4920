"""The platform menu registry: platform pages (admin, audit, reports, API docs, …) register their menu entries in
code at start-up, each with a rule for who sees it, and the header's user menu shows those the user may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class PlatformMenuEntry:
    label: str
    route_name: str
    icon: str = ""
    order: int = 100
    visible: Callable[[Any], bool] = lambda user: bool(getattr(user, "is_authenticated", False))

    @property
    def url(self) -> str:
        try:
            return reverse(self.route_name)
        except NoReverseMatch:
            return ""


_entries: dict[str, PlatformMenuEntry] = {}


def register_platform_page(entry: PlatformMenuEntry) -> PlatformMenuEntry:
    """Add (or replace, by route name) a platform page in the user menu."""
    _entries[entry.route_name] = entry
    return entry


def platform_menu(user: Any) -> list[PlatformMenuEntry]:
    """The entries `user` may see, in order."""
    return [e for e in sorted(_entries.values(), key=lambda e: (e.order, e.label)) if e.url and e.visible(user)]
