"""Every write to menus goes through these functions: validated, in a Galera-safe transaction, with history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group

from core.services import delete_with_history, run_in_transaction, save_with_history
from tenants.services import bump_config_version

from .models import MenuItem, MenuItemGroup


def save_menu_item(item: MenuItem, *, actor: Any, reason: str, groups: Iterable[Group] | None = None) -> MenuItem:
    """Create or change a menu item; with `groups`, also set exactly which groups see it."""

    def work() -> MenuItem:
        if not item.pk and not item.order:
            item.order = _next_order(item)
        save_with_history(item, actor=actor, reason=reason)
        if groups is not None:
            _set_groups(item, list(groups), actor=actor, reason=reason)
        bump_config_version(item.section)
        return item

    return run_in_transaction(work)


def set_item_groups(item: MenuItem, groups: Iterable[Group], *, actor: Any, reason: str) -> None:
    """Make exactly `groups` see `item` (no groups: every viewer of the section)."""

    def work() -> None:
        _set_groups(item, list(groups), actor=actor, reason=reason)
        bump_config_version(item.section)

    run_in_transaction(work)


def _set_groups(item: MenuItem, groups: list[Group], *, actor: Any, reason: str) -> None:
    wanted = {g.pk: g for g in groups}
    current = {link.group_id: link for link in MenuItemGroup.objects.all_sections().filter(item=item)}
    for group_id, link in current.items():
        if group_id not in wanted:
            delete_with_history(link, actor=actor, reason=reason)
    for group_id, group in wanted.items():
        if group_id not in current:
            save_with_history(MenuItemGroup(section=item.section, item=item, group=group), actor=actor, reason=reason)


def save_item_group(link: MenuItemGroup, *, actor: Any, reason: str) -> MenuItemGroup:
    """Create or change one group-mapping row."""

    def work() -> MenuItemGroup:
        save_with_history(link, actor=actor, reason=reason)
        bump_config_version(link.section)
        return link

    return run_in_transaction(work)


def delete_item_group(link: MenuItemGroup, *, actor: Any, reason: str) -> None:
    """Remove one group-mapping row."""

    def work() -> None:
        delete_with_history(link, actor=actor, reason=reason)
        bump_config_version(link.section)

    run_in_transaction(work)


def delete_menu_item(item: MenuItem, *, actor: Any, reason: str) -> None:
    """Delete an item with its children and group mapping, each deletion in the history."""

    def work() -> None:
        section = item.section
        _delete_tree(item, actor=actor, reason=reason)
        bump_config_version(section)

    run_in_transaction(work)


def _delete_tree(item: MenuItem, *, actor: Any, reason: str) -> None:
    for child in MenuItem.objects.all_sections().filter(parent=item):
        _delete_tree(child, actor=actor, reason=reason)
    for link in MenuItemGroup.objects.all_sections().filter(item=item):
        delete_with_history(link, actor=actor, reason=reason)
    delete_with_history(item, actor=actor, reason=reason)


def move_menu_item(item: MenuItem, direction: str, *, actor: Any) -> MenuItem:
    """Move an item one place up or down among its siblings (renumbering them 10, 20, 30 …)."""
    if direction not in ("up", "down"):
        raise ValueError("direction must be 'up' or 'down'")

    def work() -> MenuItem:
        siblings = list(
            MenuItem.objects.all_sections()
            .filter(section=item.section, parent_id=item.parent_id)
            .order_by("order", "label", "pk")
        )
        index = next(i for i, s in enumerate(siblings) if s.pk == item.pk)
        target = index - 1 if direction == "up" else index + 1
        if 0 <= target < len(siblings):
            siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, sibling in enumerate(siblings, start=1):
            if sibling.order != position * 10:
                sibling.order = position * 10
                save_with_history(sibling, actor=actor, reason=f"Moved “{item.label}” {direction}")
        bump_config_version(item.section)
        return item

    return run_in_transaction(work)


def _next_order(item: MenuItem) -> int:
    last = (
        MenuItem.objects.all_sections()
        .filter(section=item.section, parent_id=item.parent_id)
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    return (last or 0) + 10
