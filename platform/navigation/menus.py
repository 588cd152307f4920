"""Menu resolution: `visible_menu(user, section)`, the tree a user sees, cached by section version and groups.

The cache key holds the section's configuration version and the user's sorted group ids, so a change saved in
the admin (which bumps the version) shows on the next page load on every web instance, and a warm page costs no
menu queries. Required permissions are resolved from the permissions of the user's groups, so they are part of
the same key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Permission

from core.cache import versioned_get
from tenants.models import Section

from .models import MenuItem, MenuItemGroup, Placement

MENU_TIMEOUT = 3600


@dataclass
class MenuEntry:
    """One visible item, ready to render."""

    id: int
    label: str
    href: str
    icon: str = ""
    placement: str = Placement.BOTH
    external: bool = False
    children: list[MenuEntry] = field(default_factory=list)

    def in_top_bar(self) -> bool:
        return self.placement in (Placement.TOP, Placement.BOTH)

    def in_sidebar(self) -> bool:
        return self.placement in (Placement.SIDEBAR, Placement.BOTH)


def menu_cache_key(section: Section, group_ids: list[int], superuser: bool) -> str:
    groups = ".".join(map(str, group_ids)) or "-"
    return f"navigation:menu:{section.pk}:v{section.config_version}:{'su' if superuser else 'u'}:{groups}"


def visible_menu(user: Any, section: Section) -> list[MenuEntry]:
    """The top-level entries `user` sees in `section`, each with its visible children."""
    signed_in = getattr(user, "is_authenticated", False)
    group_ids = user.group_ids() if signed_in else []
    superuser = bool(signed_in and user.is_superuser)
    key = menu_cache_key(section, group_ids, superuser)
    return versioned_get(key, lambda: build_menu(section, set(group_ids), superuser=superuser), MENU_TIMEOUT)


def menu_for_groups(section: Section, group_ids: set[int]) -> list[MenuEntry]:
    """The menu members of exactly these groups would see ("view as group"); never cached."""
    return build_menu(section, group_ids, superuser=False)


def _group_permissions(group_ids: set[int]) -> set[str]:
    rows = Permission.objects.filter(group__id__in=group_ids).values_list("content_type__app_label", "codename")
    return {f"{app}.{codename}" for app, codename in rows}


def build_menu(section: Section, group_ids: set[int], *, superuser: bool) -> list[MenuEntry]:
    """Resolve the menu from the database: group mapping, required permissions, empty headings hidden."""
    items = list(
        MenuItem.objects.all_sections()
        .filter(section=section)
        .select_related("page", "page__section", "report")
        .order_by("order", "label")
    )
    links: dict[int, set[int]] = {}
    for item_id, group_id in (
        MenuItemGroup.objects.all_sections().filter(section=section).values_list("item_id", "group_id")
    ):
        links.setdefault(item_id, set()).add(group_id)
    needs_permissions = any(i.required_permission for i in items) and not superuser
    permissions = _group_permissions(group_ids) if needs_permissions else set()

    def shown(item: MenuItem) -> bool:
        groups = links.get(item.pk)
        if groups and not superuser and not (groups & group_ids):
            return False
        return not (item.required_permission and not superuser and item.required_permission not in permissions)

    by_parent: dict[int | None, list[MenuItem]] = {}
    for item in items:
        if shown(item):
            by_parent.setdefault(item.parent_id, []).append(item)

    def entries(parent_id: int | None) -> list[MenuEntry]:
        result = []
        for item in by_parent.get(parent_id, []):
            children = entries(item.pk)
            href = item.href
            if not href and not children:
                continue  # a heading with nothing visible under it, or a target that no longer resolves
            result.append(MenuEntry(item.pk, item.label, href, item.icon, item.placement, item.is_external, children))
        return result

    return entries(None)


def breadcrumbs(menu: list[MenuEntry], path: str) -> list[MenuEntry]:
    """The chain of entries from the top of the tree to the one whose link is `path` (empty if none is)."""

    def walk(entries: list[MenuEntry], trail: list[MenuEntry]) -> list[MenuEntry] | None:
        for entry in entries:
            here = [*trail, entry]
            if entry.href == path:
                return here
            found = walk(entry.children, here)
            if found:
                return found
        return None

    return walk(menu, []) or []
