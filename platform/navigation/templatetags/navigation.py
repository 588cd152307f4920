"""Template tags that render a section's menu (top bar, sidebar, phone menu) and breadcrumbs for the current user.

The rendered HTML of each menu is cached with the same key as the menu itself (section version, the user's
groups) plus the path (which decides the active item), so a warm page does no menu rendering at all.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from core.cache import versioned_get

from ..menus import MENU_TIMEOUT, MenuEntry, breadcrumbs, menu_cache_key, visible_menu

register = template.Library()

TEMPLATES = {
    "top": "navigation/topbar.html",
    "sidebar": "navigation/sidebar.html",
    "phone": "navigation/sidebar.html",
}


def _menu(context: dict[str, Any], section: Any) -> list[MenuEntry]:
    # Resolved once per request and kept on it: the menus and the breadcrumbs share one lookup.
    request = context["request"]
    cached = getattr(request, "_atrium_menu", None)
    if cached is None:
        cached = visible_menu(request.user, section) if section else []
        request._atrium_menu = cached
    return cached


def _entries_for(entries: list[MenuEntry], placement: str) -> list[MenuEntry]:
    if placement == "top":
        return [e for e in entries if e.in_top_bar()]
    if placement == "sidebar":
        return [e for e in entries if e.in_sidebar()]
    return entries  # on phones every entry is in the one off-canvas menu


def _render_menu(context: dict[str, Any], section: Any, placement: str) -> SafeString:
    if section is None:
        return mark_safe("")
    request = context["request"]
    user = request.user
    signed_in = getattr(user, "is_authenticated", False)
    group_ids = user.group_ids() if signed_in else []
    key = f"{menu_cache_key(section, group_ids, bool(signed_in and user.is_superuser))}:html:{placement}:{request.path}"

    def render() -> str:
        entries = _entries_for(_menu(context, section), placement)
        return render_to_string(
            TEMPLATES[placement], {"entries": entries, "current_path": request.path, "section": section}
        )

    return mark_safe(versioned_get(key, render, MENU_TIMEOUT))  # noqa: S308 - rendered from our own autoescaped templates


@register.simple_tag(takes_context=True)
def section_topbar(context: dict[str, Any], section: Any) -> SafeString:
    return _render_menu(context, section, "top")


@register.simple_tag(takes_context=True)
def section_sidebar(context: dict[str, Any], section: Any) -> SafeString:
    return _render_menu(context, section, "sidebar")


@register.simple_tag(takes_context=True)
def section_mobile_menu(context: dict[str, Any], section: Any) -> SafeString:
    return _render_menu(context, section, "phone")


@register.inclusion_tag("navigation/breadcrumbs.html", takes_context=True)
def section_breadcrumbs(context: dict[str, Any], section: Any, current_title: str = "") -> dict[str, Any]:
    request = context["request"]
    trail = breadcrumbs(_menu(context, section), request.path)
    return {"section": section, "trail": trail, "current_title": current_title}


@register.filter
def is_active_branch(entry: MenuEntry, path: str) -> bool:
    """True when the entry or one of its descendants links to `path` (to open and highlight the branch)."""
    if entry.href == path:
        return True
    return any(is_active_branch(child, path) for child in entry.children)
