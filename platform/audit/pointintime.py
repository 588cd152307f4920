"""A section's configuration as it was at a chosen moment, rebuilt from the history tables, and reverting to it.

`snapshot(section, at)` reads, for every history-tracked table in the section (the section row itself, roles,
pages, menu items, menu groups, and whatever configuration table gets `HistoricalRecords()` later), the newest
version of each object recorded at or before `at`, skipping objects deleted by then. `current(section)` reads
the same shape from the live tables, and `differences(then, now)` says, object by object and field by field,
what a revert would do.

Reverting writes through the owning app's services (so every change is validated, recorded in the history with
the actor and reason, bumps the section's configuration version, and keeps guardian permissions in step with
roles), in ONE Galera-safe transaction: it either restores everything or changes nothing. Objects keep their ids
(a menu item reverted to an old label is the same menu item, with one continuous history), which is why this
restores by primary key rather than through a bundle, whose natural keys would turn a rename into a delete and
a create.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.services import delete_with_history, run_in_transaction, save_with_history
from navigation import services as navigation_services
from navigation.models import MenuItem, MenuItemGroup
from tenants import services as tenant_services
from tenants.models import Page, Section, SectionRole
from themes import services as theme_services
from themes.models import Theme

from .queries import HistoryModel, display, history_models


class RevertError(ValueError):
    """The revert cannot be done as asked; the message says why (and nothing was changed)."""


# ---------------------------------------------------------------------------------------------------------------
# States: one object's tracked values, at a time or now
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectState:
    hm: HistoryModel
    pk: Any
    values: dict[str, Any]

    @property
    def label(self) -> str:
        value = self.values.get(self.hm.label_field) if self.hm.label_field else None
        return str(value) if value else f"{self.hm.verbose_name} #{self.pk}"


# model key -> pk -> state
States = dict[str, dict[Any, ObjectState]]


def section_models() -> tuple[HistoryModel, ...]:
    """The section's history-tracked tables, parents before children (a row is restored after what it points at)."""
    return _parents_first([hm for hm in history_models() if hm.in_sections])


def _parents_first(hms: list[HistoryModel]) -> tuple[HistoryModel, ...]:
    by_model = {hm.model: hm for hm in hms}
    ordered: list[HistoryModel] = []

    def visit(hm: HistoryModel, path: tuple[type[models.Model], ...]) -> None:
        if hm in ordered or hm.model in path:
            return
        for parent in _referenced_models(hm.model):
            if parent in by_model and parent is not hm.model:
                visit(by_model[parent], (*path, hm.model))
        ordered.append(hm)

    for hm in sorted(hms, key=lambda h: h.key):
        visit(hm, ())
    return tuple(ordered)


def _referenced_models(model: type[models.Model]) -> list[type[models.Model]]:
    return [f.related_model for f in model._meta.concrete_fields if f.is_relation and f.related_model]  # type: ignore[misc]


def _tracked(hm: HistoryModel) -> list[models.Field[Any, Any]]:
    return list(hm.history_model.tracked_fields)  # type: ignore[attr-defined]


def _compared(hm: HistoryModel) -> list[str]:
    """The fields a revert restores: every tracked field except the primary key and automatic timestamps."""
    return [
        f.attname
        for f in _tracked(hm)
        if not f.primary_key and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)
    ]


def _state(hm: HistoryModel, row: Any) -> ObjectState:
    values = {f.attname: getattr(row, f.attname) for f in _tracked(hm)}
    return ObjectState(hm, getattr(row, hm.pk_column), values)


def _scope(hm: HistoryModel, section: Section) -> dict[str, Any]:
    return {hm.section_column: section.pk}


def snapshot(section: Section, at: datetime) -> States:
    """Every object of `section` as it was at `at` (the newest version recorded at or before it)."""
    states: States = {}
    for hm in section_models():
        newest: dict[Any, Any] = {}
        upto = hm.records().filter(history_date__lte=at)
        # The newest version of each object by `at`: no later version (also by `at`) of the same object exists.
        later = upto.filter(**{hm.pk_column: OuterRef(hm.pk_column)}, history_date__gt=OuterRef("history_date"))
        records = upto.filter(**_scope(hm, section)).filter(~Exists(later))
        for record in records.order_by("history_date", "history_id"):
            newest[getattr(record, hm.pk_column)] = record  # two versions in one microsecond: the later id wins
        states[hm.key] = {pk: _state(hm, rec) for pk, rec in newest.items() if rec.history_type != "-"}
    return states


def current(section: Section) -> States:
    """Every object of `section` as it is now (base managers: no section scoping, no hidden rows)."""
    return {
        hm.key: {
            getattr(row, hm.pk_column): _state(hm, row) for row in hm.model._base_manager.filter(**_scope(hm, section))
        }
        for hm in section_models()
    }


# ---------------------------------------------------------------------------------------------------------------
# Differences: what reverting `now` to `then` would do
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Difference:
    """One object a revert touches: `restore` (re-create), `change` (with fields) or `delete`."""

    action: str
    hm: HistoryModel
    pk: Any
    label: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (field, now, then)
    then: ObjectState | None = None

    @property
    def history_url(self) -> str:
        return self.hm.history_url(self.pk)


def differences(then: States, now: States) -> list[Difference]:
    result: list[Difference] = []
    for hm in section_models():
        before, after = then.get(hm.key, {}), now.get(hm.key, {})
        names = {f.attname: str(f.verbose_name) for f in _tracked(hm)}
        for pk, state in after.items():
            if pk not in before:
                result.append(Difference("delete", hm, pk, state.label))
        for pk, state in before.items():
            if pk not in after:
                result.append(Difference("restore", hm, pk, state.label, then=state))
                continue
            changed = [
                (names[name], display(after[pk].values[name]), display(state.values[name]))
                for name in _compared(hm)
                if after[pk].values[name] != state.values[name]
            ]
            if changed:
                result.append(Difference("change", hm, pk, state.label, changed, then=state))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Writing through each app's services
# ---------------------------------------------------------------------------------------------------------------
Saver = Callable[[models.Model, Any, str], Any]
Deleter = Callable[[models.Model, Any, str], None]

SAVERS: dict[type[models.Model], Saver] = {
    Section: lambda obj, actor, reason: tenant_services.save_section(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    SectionRole: lambda obj, actor, reason: tenant_services.save_section_role(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    Page: lambda obj, actor, reason: tenant_services.save_page(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    MenuItem: lambda obj, actor, reason: navigation_services.save_menu_item(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    MenuItemGroup: lambda obj, actor, reason: navigation_services.save_item_group(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    Theme: lambda obj, actor, reason: theme_services.save_theme(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
}
DELETERS: dict[type[models.Model], Deleter] = {
    SectionRole: lambda obj, actor, reason: tenant_services.revoke_section_role(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    MenuItem: lambda obj, actor, reason: navigation_services.delete_menu_item(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    MenuItemGroup: lambda obj, actor, reason: navigation_services.delete_item_group(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
    Theme: lambda obj, actor, reason: theme_services.delete_theme(obj, actor=actor, reason=reason),  # type: ignore[arg-type]
}


def _save(obj: models.Model, actor: Any, reason: str) -> None:
    saver = SAVERS.get(type(obj))
    if saver is not None:
        saver(obj, actor, reason)
    elif hasattr(obj, "section_id"):
        # A configuration table added later (datasets, reports): the generic section service covers it.
        tenant_services.save_in_section(obj, actor=actor, reason=reason)
    else:
        save_with_history(obj, actor=actor, reason=reason)


def _delete(obj: models.Model, actor: Any, reason: str) -> None:
    deleter = DELETERS.get(type(obj))
    if deleter is not None:
        deleter(obj, actor, reason)
    elif hasattr(obj, "section_id"):
        tenant_services.delete_in_section(obj, actor=actor, reason=reason)
    else:
        delete_with_history(obj, actor=actor, reason=reason)


def _restore(state: ObjectState, actor: Any, reason: str) -> None:
    """Give the object its values from `state` (re-creating it, with its old id, if it is gone)."""
    hm = state.hm
    obj = hm.model._base_manager.filter(pk=state.pk).first() or hm.model(pk=state.pk)
    for name in _compared(hm):
        setattr(obj, name, state.values[name])
    _save(obj, actor, reason)


def _remove(hm: HistoryModel, pk: Any, actor: Any, reason: str) -> None:
    obj = hm.model._base_manager.filter(pk=pk).first()
    if obj is not None:  # already gone with a parent (a page takes its menu items with it)
        _delete(obj, actor, reason)


def _depth(state: ObjectState, states: dict[Any, ObjectState]) -> int:
    """How deep a row sits under rows of its own table (menu items under menu items); 0 for most tables."""
    parents = [
        f.attname for f in state.hm.model._meta.concrete_fields if f.is_relation and f.related_model is state.hm.model
    ]
    depth, seen, node = 0, {state.pk}, state
    while parents and (parent := node.values.get(parents[0])) in states and parent not in seen:
        depth, node = depth + 1, states[parent]
        seen.add(parent)
    return depth


def _missing_references(changes: Iterable[Difference], then: States) -> list[str]:
    """References to rows outside the section's tables (groups, themes, users) that no longer exist."""
    problems = []
    scoped = {hm.model for hm in section_models()}
    for change in changes:
        if change.then is None:
            continue
        for f in change.hm.model._meta.concrete_fields:
            target = f.related_model
            value = change.then.values.get(f.attname)
            if not f.is_relation or target in scoped or value is None or target is None:
                continue
            if not target._base_manager.filter(pk=value).exists():  # type: ignore[union-attr]
                noun = "group" if target is Group else str(target._meta.verbose_name)  # type: ignore[union-attr]
                problems.append(f"{change.label} needs {noun} #{value}, which no longer exists")
    return problems


@dataclass(frozen=True)
class RevertResult:
    restored: int
    changed: int
    deleted: int

    @property
    def total(self) -> int:
        return self.restored + self.changed + self.deleted

    def summary(self) -> str:
        if not self.total:
            return "no changes: the configuration already matched"
        return f"{self.restored} restored, {self.changed} changed, {self.deleted} deleted"


def revert_reason(at: datetime, reason: str) -> str:
    when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")
    return f"Reverted to {when}: {reason}"[:100]


def revert_section(section: Section, at: datetime, *, actor: Any, reason: str) -> RevertResult:
    """Make `section`'s whole configuration what it was at `at`, in one transaction, through the services."""
    if not reason.strip():
        raise RevertError("Give a reason for the revert; it is recorded in the history.")

    def work() -> RevertResult:
        then = snapshot(section, at)
        if not then.get(f"{Section._meta.app_label}.{Section._meta.model_name}"):
            raise RevertError("The section did not exist at that time; choose a later moment.")
        changes = differences(then, current(section))
        problems = _missing_references(changes, then)
        if problems:
            raise RevertError("Cannot revert: " + "; ".join(problems) + ".")
        full_reason = revert_reason(at, reason)
        _apply(changes, then, actor=actor, reason=full_reason)
        counts = {action: sum(1 for c in changes if c.action == action) for action in ("restore", "change", "delete")}
        return RevertResult(counts["restore"], counts["change"], counts["delete"])

    return _translating_errors(lambda: run_in_transaction(work))


def _apply(changes: list[Difference], then: States, *, actor: Any, reason: str) -> None:
    order = {hm.key: index for index, hm in enumerate(section_models())}
    deletions = [c for c in changes if c.action == "delete"]
    # Children before parents when deleting; parents before children when restoring.
    for change in sorted(deletions, key=lambda c: -order[c.hm.key]):
        _remove(change.hm, change.pk, actor, reason)
    writes = [c for c in changes if c.action != "delete" and c.then is not None]
    for change in sorted(writes, key=lambda c: (order[c.hm.key], _depth(c.then, then[c.hm.key]))):  # type: ignore[arg-type]
        _restore(change.then, actor, reason)  # type: ignore[arg-type]


def _translating_errors(work: Callable[[], RevertResult]) -> RevertResult:
    try:
        return work()
    except ValidationError as exc:
        details = "; ".join(
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
        )
        raise RevertError(f"Cannot revert: the old version no longer validates ({details}).") from exc


# ---------------------------------------------------------------------------------------------------------------
# One object
# ---------------------------------------------------------------------------------------------------------------
def revert_object(hm: HistoryModel, record: Any, *, actor: Any, reason: str) -> str:
    """Make one object what it was in the version `record` (a deletion version: delete it). Returns what it did."""
    if not reason.strip():
        raise RevertError("Give a reason for the revert; it is recorded in the history.")
    pk = getattr(record, hm.pk_column)
    full_reason = revert_reason(record.history_date, reason)

    def work() -> RevertResult:
        exists = hm.model._base_manager.filter(pk=pk).exists()
        if record.history_type == "-":
            if exists:
                _remove(hm, pk, actor, full_reason)
            return RevertResult(0, 0, int(exists))
        state = _state(hm, record)
        change = Difference("change" if exists else "restore", hm, pk, state.label, then=state)
        problems = _missing_references([change], {})
        if problems:
            raise RevertError("Cannot revert: " + "; ".join(problems) + ".")
        _restore(state, actor, full_reason)
        return RevertResult(int(not exists), int(exists), 0)

    return _translating_errors(lambda: run_in_transaction(work)).summary()


# ---------------------------------------------------------------------------------------------------------------
# Reading a snapshot the way people read a section: its menu tree, group mapping, theme and pages
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class MenuNode:
    state: ObjectState
    groups: list[str]
    target: str
    children: list[MenuNode] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.state.values["label"])


def _key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def menu_tree(states: States) -> list[MenuNode]:
    """The snapshot's menu items as a tree (top level first, each level by order then label)."""
    items = states.get(_key(MenuItem), {})
    pages = {pk: s.values["slug"] for pk, s in states.get(_key(Page), {}).items()}
    group_names = dict(Group.objects.values_list("pk", "name"))
    groups: dict[Any, list[str]] = {}
    for link in states.get(_key(MenuItemGroup), {}).values():
        name = group_names.get(link.values["group_id"], f"group #{link.values['group_id']} (deleted)")
        groups.setdefault(link.values["item_id"], []).append(name)
    nodes = {pk: MenuNode(s, sorted(groups.get(pk, [])), _target(s, pages)) for pk, s in items.items()}
    roots: list[MenuNode] = []
    for node in nodes.values():
        parent = nodes.get(node.state.values["parent_id"])
        (parent.children if parent is not None else roots).append(node)
    for node in [*nodes.values()]:
        node.children.sort(key=_menu_order)
    return sorted(roots, key=_menu_order)


def _menu_order(node: MenuNode) -> tuple[int, str]:
    return (int(node.state.values["order"] or 0), node.label)


def _target(state: ObjectState, pages: dict[Any, str]) -> str:
    values = state.values
    if values.get("page_id"):
        return f"page {pages.get(values['page_id'], '#' + str(values['page_id']))}"
    if values.get("route_name"):
        return f"route {values['route_name']}"
    return str(values.get("url") or "—")


def roles(states: States) -> list[tuple[str, str]]:
    group_names = dict(Group.objects.values_list("pk", "name"))
    return sorted(
        (group_names.get(s.values["group_id"], f"group #{s.values['group_id']} (deleted)"), str(s.values["role"]))
        for s in states.get(_key(SectionRole), {}).values()
    )


def section_state(states: States) -> ObjectState | None:
    return next(iter(states.get(_key(Section), {}).values()), None)


def theme_name(state: ObjectState | None) -> str:
    theme_id = state.values.get("default_theme_id") if state is not None else None
    if not theme_id:
        return "platform default"
    theme = Theme.objects.filter(pk=theme_id).first()
    return f"{theme.name} ({theme.slug})" if theme is not None else f"theme #{theme_id} (deleted)"


def other_tables(states: States) -> list[tuple[HistoryModel, list[ObjectState]]]:
    """Tables of the section other than those shown as a tree or a list above (for example reports)."""
    shown = {_key(m) for m in (Section, SectionRole, MenuItem, MenuItemGroup)}
    return [
        (hm, sorted(states.get(hm.key, {}).values(), key=lambda s: s.label))
        for hm in section_models()
        if hm.key not in shown
    ]
