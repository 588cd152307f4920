"""Template tags that render a section's menu for the current user."""

from __future__ import annotations

from typing import Any

from django import template

from ..menus import visible_menu

register = template.Library()


@register.inclusion_tag("navigation/menu.html", takes_context=True)
def section_menu(context: dict[str, Any], section: Any, placement: str = "sidebar") -> dict[str, Any]:
    request = context["request"]
    return {
        "entries": visible_menu(request.user, section) if section else [],
        "placement": placement,
        "current_path": request.path,
    }
