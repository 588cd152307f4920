"""Menu resolution: which of a section's items a user sees, cached by section version and the user's groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from tenants.models import Section

from .models import MenuItem

MENU_TIMEOUT = 3600


@dataclass
class MenuEntry:
    label: str
    href: str
    children: list[MenuEntry] = field(default_factory=list)


def _menu_key(section: Section, group_ids: list[int]) -> str:
    return f"navigation:menu:{section.pk}:v{section.config_version}:g{'.'.join(map(str, group_ids)) or '-'}"


def visible_menu(user: Any, section: Section) -> list[MenuEntry]:
    """The top-level entries `user` sees in `section`, with their visible children."""
    group_ids = user.group_ids() if getattr(user, "is_authenticated", False) else []
    key = _menu_key(section, group_ids)
    cached = cache.get(key)
    if cached is not None:
        return cached
    menu = build_menu(section, set(group_ids))
    cache.set(key, menu, MENU_TIMEOUT)
    return menu


def build_menu(section: Section, group_ids: set[int]) -> list[MenuEntry]:
    items = list(
        MenuItem.objects.all_sections()
        .filter(section=section)
        .select_related("page", "page__section")
        .prefetch_related("groups")
        .order_by("order", "label")
    )
    visible = [i for i in items if not i.groups.all() or {g.pk for g in i.groups.all()} & group_ids]
    by_parent: dict[int | None, list[MenuItem]] = {}
    for item in visible:
        by_parent.setdefault(item.parent_id, []).append(item)

    def entries(parent_id: int | None) -> list[MenuEntry]:
        return [MenuEntry(i.label, i.href, entries(i.pk)) for i in by_parent.get(parent_id, [])]

    return entries(None)
