"""Section bundles: a section's configuration as one versioned JSON document, and its import into another database.

Dev, UAT and prod are separate deployments with separate databases, so configuration moves between them as a
bundle file, never as shared tables. A bundle names everything by natural keys (section and page slugs, group
names, menu label paths, theme slugs), so no database id ever leaves its environment.

- `export_section(section)` builds the bundle; the menu and pages go through django-import-export resources
  (the navigation app's `MenuItemResource` and `PageResource` below), the section row and roles are serialised
  through the same natural keys.
- `plan_import(bundle)` validates the bundle against the target database and returns the field-by-field
  difference; it changes nothing.
- `apply_import(bundle, actor=…)` applies that difference in ONE transaction through the tenants and navigation
  services, so each change is validated, recorded in the history with the bundle's origin as the change reason,
  and bumps the section's configuration version. A bundle that matches the target changes nothing at all.
- Everything that cannot be imported raises `BundleError` before any write, or inside the transaction (which is
  then rolled back), so nothing is ever half-imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from import_export import resources

from core.services import run_in_transaction
from navigation import services as navigation_services
from navigation.models import MenuItem
from navigation.resources import PATH_SEPARATOR, MenuItemResource, label_path
from tenants import services as tenant_services
from tenants.models import Page, Section, SectionRole
from themes.models import Theme

FORMAT = "atrium-section-bundle"
SCHEMA_VERSION = 1

SECTION_FIELDS: dict[str, tuple[type, ...]] = {
    "slug": (str,),
    "name": (str,),
    "description": (str,),
    "status": (str,),
    "navigation_layout": (str,),
    "default_colour_mode": (str,),
    "lock_colour_mode": (bool,),
    "require_mfa": (bool,),
    "support_email": (str,),
    "escalation_channel": (str,),
    "default_theme": (str, type(None)),
}
ROLE_FIELDS: dict[str, tuple[type, ...]] = {"group": (str,), "role": (str,)}
PAGE_FIELDS: dict[str, tuple[type, ...]] = {"slug": (str,), "title": (str,), "body": (str,), "published": (bool,)}
MENU_FIELDS: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "label": (str,),
    "icon": (str,),
    "placement": (str,),
    "order": (int,),
    "target": (dict, type(None)),
    "required_permission": (str,),
    "groups": (list,),
}
REPORT_FIELDS: dict[str, tuple[type, ...]] = {
    "slug": (str,),
    "title": (str,),
    "description": (str,),
    "dataset": (str,),
    "columns": (list,),
    "filters": (list,),
    "default_sort": (list,),
    "page_size": (int,),
    "chart_type": (str,),
    "chart_x": (str,),
    "chart_y": (str,),
    "chart_aggregation": (str,),
    "chart_group_by": (str,),
    "chart_bucket": (str,),
    "allowed_groups": (list,),
}
REPORT_VALUE_FIELDS = [name for name in REPORT_FIELDS if name not in ("slug", "dataset", "allowed_groups")]
# Bundles exported before reports existed have no "reports" key; they import as "no shared reports".
OPTIONAL_TOP_FIELDS: dict[str, tuple[type, ...]] = {"reports": (list,)}
TOP_FIELDS: dict[str, tuple[type, ...]] = {
    "format": (str,),
    "schema_version": (int,),
    "origin": (dict,),
    "section": (dict,),
    "roles": (list,),
    "pages": (list,),
    "menu": (list,),
    "checksum": (str,),
}
ORIGIN_FIELDS: dict[str, tuple[type, ...]] = {"environment": (str,), "exported_at": (str,), "atrium_version": (str,)}
TARGET_KINDS = ("page", "route", "report", "url")


class BundleError(ValueError):
    """The bundle cannot be exported or imported as asked; the message says why (and nothing was changed)."""


class PageResource(resources.ModelResource):
    """A section's pages by slug (the section is implied by the bundle), for export through django-import-export."""

    class Meta:
        model = Page
        fields = ("slug", "title", "body", "published")
        export_order = fields


# Export ---------------------------------------------------------------------------------------------------------------


def checksum(bundle: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of everything except the checksum itself (sorted keys, no whitespace)."""
    body = {key: value for key, value in bundle.items() if key != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def export_section(section: Section) -> dict[str, Any]:
    """The whole configuration of `section` as a bundle (a JSON-serialisable dict with its checksum)."""
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "origin": {
            "environment": settings.ATRIUM_ENV,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
            "atrium_version": settings.ATRIUM_VERSION,
        },
        "section": _section_state(section),
        "roles": [{"group": group, "role": role} for group, role in sorted(_role_keys(section))],
        "pages": _export_pages(section),
        "menu": _export_menu(section),
        "reports": _export_reports(section),
    }
    bundle["checksum"] = checksum(bundle)
    return bundle


def dumps(bundle: dict[str, Any]) -> str:
    """The bundle as the text written to a file: indented for people reading a diff, keys in a stable order."""
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _section_state(section: Section) -> dict[str, Any]:
    state = {name: getattr(section, name) for name in SECTION_FIELDS if name != "default_theme"}
    state["default_theme"] = section.default_theme.slug if section.default_theme_id else None  # type: ignore[union-attr]
    return state


def _role_keys(section: Section) -> set[tuple[str, str]]:
    rows = SectionRole.objects.all_sections().filter(section=section).values_list("group__name", "role")
    return {(str(group), str(role)) for group, role in rows}


def _export_pages(section: Section) -> list[dict[str, Any]]:
    queryset = Page.objects.all_sections().filter(section=section).order_by("slug")
    # force_native_type keeps booleans as booleans instead of the "1"/"0" the CSV formats want.
    return [dict(row) for row in PageResource().export(queryset=queryset, force_native_type=True).dict]


def _export_reports(section: Section) -> list[dict[str, Any]]:
    """The section's shared reports by slug, their dataset by key and their groups by name (personal reports stay)."""
    from reports.models import ReportDefinition

    queryset = ReportDefinition.objects.filter(section=section).select_related("dataset").order_by("slug")
    return [_report_state(report) for report in queryset.prefetch_related("allowed_groups")]


def _report_state(report: Any) -> dict[str, Any]:
    state = {name: getattr(report, name) for name in REPORT_VALUE_FIELDS}
    state["slug"] = report.slug
    state["dataset"] = report.dataset.key
    state["allowed_groups"] = sorted(group.name for group in report.allowed_groups.all())
    return state


def _export_menu(section: Section) -> list[dict[str, Any]]:
    """Menu items parents-first (depth first, by order), each named by its label path."""
    items = list(
        MenuItem.objects.all_sections().filter(section=section).select_related("section", "parent", "page", "report")
    )
    rows = MenuItemResource().export(queryset=items, force_native_type=True).dict
    by_parent: dict[int | None, list[tuple[MenuItem, dict[str, Any]]]] = {}
    for item, row in zip(items, rows, strict=True):
        by_parent.setdefault(item.parent_id, []).append((item, row))
    menu: list[dict[str, Any]] = []
    seen: set[str] = set()

    def walk(parent_id: int | None) -> None:
        for item, row in sorted(by_parent.get(parent_id, []), key=lambda pair: (pair[0].order, pair[0].label)):
            path = label_path(item)
            if path in seen:
                # The label path is the item's only name outside this database; two items with one name cannot move.
                raise BundleError(f"Two menu items in {section.slug} are both “{path}”; rename one before exporting.")
            seen.add(path)
            menu.append(_menu_entry(path, row))
            walk(item.pk)

    walk(None)
    return menu


def _menu_entry(path: str, row: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, str] | None = None
    if row["page"]:
        target = {"page": row["page"]}
    elif row["route_name"]:
        target = {"route": row["route_name"]}
    elif row.get("report"):
        # A report is named by its slug; the target section must hold a report with that slug when importing.
        target = {"report": row["report"]}
    elif row["url"]:
        target = {"url": row["url"]}
    return {
        "path": path,
        "label": row["label"],
        "icon": row["icon"] or "",
        "placement": row["placement"],
        "order": int(row["order"]),
        "target": target,
        "required_permission": row["required_permission"] or "",
        "groups": [name.strip() for name in (row["groups"] or "").split(",") if name.strip()],
    }


# Validation -----------------------------------------------------------------------------------------------------------


def loads(text: str) -> dict[str, Any]:
    """Parse and validate a bundle file's text (structure and checksum; not yet against a database)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"The file is not a section bundle: it is not valid JSON ({exc}).") from exc
    validate(data)
    return data  # type: ignore[no-any-return]


def validate(bundle: Any) -> None:
    """Refuse anything that is not an intact bundle this version of Atrium can read."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise BundleError(f"The file is not a section bundle (its “format” is not “{FORMAT}”).")
    version = bundle.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        # Checked before anything else: a newer bundle may legitimately have a shape this version cannot read.
        raise BundleError(
            f"The bundle has schema version {version}, newer than this Atrium understands ({SCHEMA_VERSION}); "
            "upgrade this environment first, or export from an environment on the same version."
        )
    _check_fields("bundle", {k: v for k, v in bundle.items() if k not in OPTIONAL_TOP_FIELDS}, TOP_FIELDS)
    if not isinstance(bundle.get("reports", []), list):
        raise BundleError("The bundle is malformed: bundle.reports must be list.")
    if version != SCHEMA_VERSION:
        raise BundleError(f"The bundle has schema version {version}; this Atrium reads version {SCHEMA_VERSION}.")
    _check_fields("origin", bundle["origin"], ORIGIN_FIELDS)
    _check_fields("section", bundle["section"], SECTION_FIELDS)
    for index, role in enumerate(bundle["roles"]):
        _check_fields(f"roles[{index}]", role, ROLE_FIELDS)
    for index, page in enumerate(bundle["pages"]):
        _check_fields(f"pages[{index}]", page, PAGE_FIELDS)
    for index, entry in enumerate(bundle["menu"]):
        _check_menu_entry(f"menu[{index}]", entry)
    for index, report in enumerate(bundle.get("reports", [])):
        _check_fields(f"reports[{index}]", report, REPORT_FIELDS)
    if checksum(bundle) != bundle["checksum"]:
        raise BundleError(
            "The bundle's checksum does not match its content: it was edited or damaged after export. "
            "Export it again instead of editing it."
        )
    _check_references(bundle)


def _check_fields(where: str, value: Any, spec: dict[str, tuple[type, ...]]) -> None:
    if not isinstance(value, dict):
        raise BundleError(f"The bundle is malformed: {where} must be an object.")
    missing = sorted(set(spec) - set(value))
    unknown = sorted(set(value) - set(spec))
    if missing or unknown:
        problems = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(unknown)}" if unknown else "",
        ]
        raise BundleError(f"The bundle is malformed: {where} has {'; '.join(p for p in problems if p)}.")
    for name, types in spec.items():
        item = value[name]
        # bool is an int in Python; an order of `true` is still a malformed order.
        if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise BundleError(f"The bundle is malformed: {where}.{name} must be {expected}, not {item!r}.")


def _check_menu_entry(where: str, entry: Any) -> None:
    _check_fields(where, entry, MENU_FIELDS)
    target = entry["target"]
    if target is not None and (
        len(target) != 1 or next(iter(target)) not in TARGET_KINDS or not isinstance(next(iter(target.values())), str)
    ):
        raise BundleError(f"The bundle is malformed: {where}.target must be null or one of page, route, report or url.")
    if not all(isinstance(name, str) for name in entry["groups"]):
        raise BundleError(f"The bundle is malformed: {where}.groups must be a list of group names.")
    if entry["path"].split(PATH_SEPARATOR)[-1] != entry["label"]:
        raise BundleError(f"The bundle is malformed: {where}.path “{entry['path']}” does not end in its label.")


def _bundle_report(section: Section, slug: str) -> Any:
    from reports.models import ReportDefinition

    report = ReportDefinition.objects.filter(section=section, slug=slug).first()
    if report is None:
        raise BundleError(f"The menu links to the report “{slug}”, which {section.slug} lacks: create it first.")
    return report


def _check_references(bundle: dict[str, Any]) -> None:
    """Every page and parent a menu item names must be in the bundle itself (parents before their children)."""
    pages = {page["slug"] for page in bundle["pages"]}
    reports = {report["slug"] for report in bundle.get("reports", [])}
    paths: set[str] = set()
    problems = []
    for entry in bundle["menu"]:
        path = entry["path"]
        parent = PATH_SEPARATOR.join(path.split(PATH_SEPARATOR)[:-1])
        if parent and parent not in paths:
            problems.append(f"menu item “{path}” has a parent “{parent}” that is not in the bundle")
        page = (entry["target"] or {}).get("page")
        if page is not None and page not in pages:
            problems.append(f"menu item “{path}” links to a page “{page}” that is not in the bundle")
        report = (entry["target"] or {}).get("report")
        if report is not None and report not in reports:
            problems.append(f"menu item “{path}” links to a report “{report}” that is not in the bundle")
        if path in paths:
            problems.append(f"menu item “{path}” appears twice")
        paths.add(path)
    if problems:
        raise BundleError("The bundle is inconsistent: " + "; ".join(problems) + ".")


# Planning -------------------------------------------------------------------------------------------------------------


@dataclass
class Change:
    """One row of the dry run: `+` created, `~` changed (with its fields), `-` deleted."""

    action: str
    noun: str
    key: str
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.action != "~":
            return [f"{self.action} {self.noun} {self.key}"]
        return [f"~ {self.noun} {self.key}: {name} {_show(old)} → {_show(new)}" for name, old, new in self.fields]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class ImportPlan:
    """What importing a bundle into this database would do; `apply_import` carries it out."""

    bundle: dict[str, Any]
    section: Section | None
    groups: dict[str, Group]
    changes: list[Change]

    @property
    def reason(self) -> str:
        origin = self.bundle["origin"]
        return (
            f"Imported bundle from {origin['environment']} "
            f"(schema v{self.bundle['schema_version']}, exported {origin['exported_at']})"
        )

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def lines(self) -> list[str]:
        if not self.changes:
            return ["no changes"]
        return [line for change in self.changes for line in change.lines()]

    def summary(self) -> str:
        counts = {action: sum(1 for c in self.changes if c.action == action) for action in "+~-"}
        return f"{counts['+']} to create, {counts['~']} to change, {counts['-']} to delete"


def plan_import(bundle: dict[str, Any], *, create: bool = False) -> ImportPlan:
    """Validate `bundle` against this database and work out, field by field, what importing it would change."""
    validate(bundle)
    section, groups = _resolve_target(bundle, create=create)
    changes = _section_changes(bundle, section) + _page_and_role_changes(bundle, section)
    changes += _report_changes(bundle, section) + _menu_changes(bundle, section)
    bundle_pages = {page["slug"] for page in bundle["pages"]}
    have_pages = {p["slug"] for p in (_export_pages(section) if section else [])}
    # Page deletions come last in the plan, as in `_apply`: deleting a page cascades to items that link to it.
    changes += [Change("-", "page", slug) for slug in sorted(have_pages - bundle_pages)]
    return ImportPlan(bundle=bundle, section=section, groups=groups, changes=changes)


def _resolve_target(bundle: dict[str, Any], *, create: bool) -> tuple[Section | None, dict[str, Group]]:
    """The target section (None: to be created) and the bundle's groups; refuses what the target lacks."""
    spec = bundle["section"]
    section = Section.objects.filter(slug=spec["slug"]).select_related("default_theme").first()
    if section is None and not create:
        raise BundleError(
            f"There is no section “{spec['slug']}” in this environment; onboard it first, or import with --create."
        )
    names = {role["group"] for role in bundle["roles"]} | {n for e in bundle["menu"] for n in e["groups"]}
    names |= {n for report in bundle.get("reports", []) for n in report["allowed_groups"]}
    _require_datasets({report["dataset"] for report in bundle.get("reports", [])})
    groups = {group.name: group for group in Group.objects.filter(name__in=names)}
    unknown = sorted(names - set(groups))
    if unknown:
        raise BundleError(
            f"Unknown group(s) in this environment: {', '.join(unknown)}. "
            "Create them in the directory (and sync) before importing."
        )
    theme = spec["default_theme"]
    if theme is not None and not Theme.objects.filter(slug=theme).exists():
        raise BundleError(f"There is no theme “{theme}” in this environment; install it before importing.")
    return section, groups


def _require_datasets(keys: set[str]) -> None:
    """Every report's dataset must be registered in code here (deployed); its catalog entry may be missing."""
    from reports.datasets import UnknownDataset, get_dataset

    missing = []
    for key in sorted(keys):
        try:
            get_dataset(key)
        except UnknownDataset:
            missing.append(key)
    if missing:
        raise BundleError(
            f"Unknown dataset(s) in this environment: {', '.join(missing)}. Deploy the code that registers them first."
        )


def _catalog_entry(key: str, section: Section, groups: list[Group], *, actor: Any, reason: str) -> Any:
    """The dataset's catalog entry; created when missing, owned by the importing section and visible to the groups
    of its roles only (a platform admin completes the metadata afterwards)."""
    from reports import services as report_services
    from reports.datasets import get_dataset
    from reports.models import Dataset

    dataset = Dataset.objects.filter(key=key).first()
    if dataset is not None:
        return dataset
    entry = Dataset(key=key, title=get_dataset(key).title, owner_section=section)
    return report_services.save_dataset(entry, actor=actor, reason=reason, allowed_groups=groups)


def _section_changes(bundle: dict[str, Any], section: Section | None) -> list[Change]:
    spec = bundle["section"]
    if section is None:
        return [Change("+", "section", spec["slug"])]
    current = _section_state(section)
    diff = [(name, current[name], spec[name]) for name in SECTION_FIELDS if current[name] != spec[name]]
    return [Change("~", "section", spec["slug"], diff)] if diff else []


def _page_and_role_changes(bundle: dict[str, Any], section: Section | None) -> list[Change]:
    wanted_roles = {(role["group"], role["role"]) for role in bundle["roles"]}
    have_roles = _role_keys(section) if section else set()
    changes = [Change("+", "role", f"{g} {r}") for g, r in sorted(wanted_roles - have_roles)]
    changes += [Change("-", "role", f"{g} {r}") for g, r in sorted(have_roles - wanted_roles)]
    have_pages = {p["slug"]: p for p in (_export_pages(section) if section else [])}
    for page in bundle["pages"]:
        before = have_pages.get(page["slug"])
        if before is None:
            changes.append(Change("+", "page", page["slug"]))
            continue
        diff = [(name, before[name], page[name]) for name in PAGE_FIELDS if before[name] != page[name]]
        if diff:
            changes.append(Change("~", "page", page["slug"], diff))
    return changes


def _report_changes(bundle: dict[str, Any], section: Section | None) -> list[Change]:
    have = {r["slug"]: r for r in (_export_reports(section) if section else [])}
    wanted = {r["slug"]: r for r in bundle.get("reports", [])}
    changes = []
    for slug, report in wanted.items():
        before = have.get(slug)
        if before is None:
            changes.append(Change("+", "report", slug))
            continue
        diff = [(name, before[name], report[name]) for name in REPORT_FIELDS if before[name] != report[name]]
        if diff:
            changes.append(Change("~", "report", slug, diff))
    return changes + [Change("-", "report", slug) for slug in sorted(set(have) - set(wanted))]


def _menu_changes(bundle: dict[str, Any], section: Section | None) -> list[Change]:
    have_menu = {e["path"]: e for e in (_export_menu(section) if section else [])}
    wanted_menu = {e["path"] for e in bundle["menu"]}
    changes = [
        Change("-", "menu item", path)  # its children go with it, so they are not listed again
        for path in have_menu
        if path not in wanted_menu and not _ancestor_in(path, set(have_menu) - wanted_menu)
    ]
    for entry in bundle["menu"]:
        before = have_menu.get(entry["path"])
        if before is None:
            changes.append(Change("+", "menu item", entry["path"]))
            continue
        diff = [(name, before[name], entry[name]) for name in MENU_FIELDS if before[name] != entry[name]]
        if diff:
            changes.append(Change("~", "menu item", entry["path"], diff))
    return changes


def _ancestor_in(path: str, paths: set[str]) -> bool:
    parts = path.split(PATH_SEPARATOR)
    return any(PATH_SEPARATOR.join(parts[:n]) in paths for n in range(1, len(parts)))


# Applying -------------------------------------------------------------------------------------------------------------


def apply_import(bundle: dict[str, Any], *, actor: Any = None, create: bool = False) -> ImportPlan:
    """Import `bundle` in one transaction through the services; returns the plan that was applied.

    A bundle identical to the target makes no service call at all: no history rows, no version bump.
    """

    def work() -> ImportPlan:
        plan = plan_import(bundle, create=create)
        if plan.has_changes:
            _apply(plan, actor=actor)
        return plan

    return _translating_errors(lambda: run_in_transaction(work))


def dry_run(bundle: dict[str, Any], *, create: bool = False) -> ImportPlan:
    """The plan, proven by applying it inside a transaction that is then rolled back.

    This way the dry run also catches what only the models' validation sees (an unknown route name, a bad icon,
    a menu too deep), so a dry run that passes means the apply will too.
    """

    class Rollback(Exception):
        pass

    outcome: list[ImportPlan] = []

    def work() -> None:
        with transaction.atomic():
            plan = plan_import(bundle, create=create)
            if plan.has_changes:
                _apply(plan, actor=None)
            outcome.append(plan)
            raise Rollback

    with contextlib.suppress(Rollback):
        _translating_errors(work)
    return outcome[0]


def _translating_errors(work: Callable[[], Any]) -> Any:
    try:
        return work()
    except ValidationError as exc:
        details = "; ".join(
            f"{name}: {' '.join(messages)}"
            for name, messages in getattr(exc, "message_dict", {"": exc.messages}).items()
        )
        raise BundleError(f"The bundle does not validate in this environment: {details}.") from exc


def _apply(plan: ImportPlan, *, actor: Any) -> None:
    bundle, reason = plan.bundle, plan.reason
    section = _apply_section(plan, actor=actor, reason=reason)
    wanted_roles = {(role["group"], role["role"]) for role in bundle["roles"]}
    for role in SectionRole.objects.all_sections().filter(section=section).select_related("group", "section"):
        if (role.group.name, role.role) not in wanted_roles:
            tenant_services.revoke_section_role(role, actor=actor, reason=reason)
    have_roles = _role_keys(section)
    for group_name, role_kind in sorted(wanted_roles - have_roles):
        tenant_services.grant_section_role(section, plan.groups[group_name], role_kind, actor=actor, reason=reason)

    pages = {p.slug: p for p in Page.objects.all_sections().filter(section=section)}
    for spec in bundle["pages"]:
        page = pages.get(spec["slug"]) or Page(section=section, slug=spec["slug"])
        if page.pk and all(getattr(page, name) == spec[name] for name in PAGE_FIELDS):
            continue
        for name in PAGE_FIELDS:
            setattr(page, name, spec[name])
        pages[spec["slug"]] = tenant_services.save_page(page, actor=actor, reason=reason)

    stale_reports = _apply_reports(section, bundle.get("reports", []), plan.groups, actor=actor, reason=reason)

    # Menu deletions before additions, so a renamed item's old row never collides with its new one; page deletions
    # last, because deleting a page cascades to the items linking to it (without history).
    items = {label_path(i): i for i in MenuItem.objects.all_sections().filter(section=section).select_related("parent")}
    wanted_paths = {entry["path"] for entry in bundle["menu"]}
    for path, item in sorted(items.items()):
        if path not in wanted_paths and not _ancestor_in(path, set(items) - wanted_paths):
            navigation_services.delete_menu_item(item, actor=actor, reason=reason)
    current = {e["path"]: e for e in _export_menu(section)}
    for entry in bundle["menu"]:
        _apply_menu_entry(section, entry, current.get(entry["path"]), pages, plan.groups, actor=actor, reason=reason)

    for report in stale_reports:  # after the menu, which may have linked to them
        from reports import services as report_services

        report_services.delete_report(report, actor=actor, reason=reason)

    bundle_pages = {spec["slug"] for spec in bundle["pages"]}
    for slug, page in sorted(pages.items()):
        if slug not in bundle_pages:
            tenant_services.delete_in_section(page, actor=actor, reason=reason)


def _apply_reports(
    section: Section, specs: list[dict[str, Any]], groups: dict[str, Group], *, actor: Any, reason: str
) -> list[Any]:
    """Create or change the bundle's reports; returns the section's reports the bundle no longer has."""
    from reports import services as report_services
    from reports.models import ReportDefinition

    role_groups = [role.group for role in SectionRole.objects.all_sections().filter(section=section)]
    have = {r.slug: r for r in ReportDefinition.objects.filter(section=section).prefetch_related("allowed_groups")}
    for spec in specs:
        report = have.pop(spec["slug"], None)
        if report is not None and _report_state(report) == spec:
            continue
        report = report or ReportDefinition(section=section, slug=spec["slug"])
        report.dataset = _catalog_entry(spec["dataset"], section, role_groups, actor=actor, reason=reason)
        for name in REPORT_VALUE_FIELDS:
            setattr(report, name, spec[name])
        report.full_clean()
        report_services.save_report(
            report, actor=actor, reason=reason, allowed_groups=[groups[n] for n in spec["allowed_groups"]]
        )
    return list(have.values())


def _apply_section(plan: ImportPlan, *, actor: Any, reason: str) -> Section:
    spec = plan.bundle["section"]
    section = plan.section or Section(slug=spec["slug"])
    if plan.section is not None and _section_state(section) == spec:
        return section
    for name in SECTION_FIELDS:
        if name != "default_theme":
            setattr(section, name, spec[name])
    section.default_theme = Theme.objects.get(slug=spec["default_theme"]) if spec["default_theme"] else None
    return tenant_services.save_section(section, actor=actor, reason=reason)


def _apply_menu_entry(
    section: Section,
    entry: dict[str, Any],
    before: dict[str, Any] | None,
    pages: dict[str, Page],
    groups: dict[str, Group],
    *,
    actor: Any,
    reason: str,
) -> None:
    wanted_groups = [groups[name] for name in entry["groups"]]
    if before == entry:
        return
    parts = entry["path"].split(PATH_SEPARATOR)
    parent = None
    for label in parts[:-1]:
        parent = MenuItem.objects.all_sections().get(section=section, parent=parent, label=label)
    item = MenuItem.objects.all_sections().filter(section=section, parent=parent, label=entry["label"]).first()
    if before is not None and item is not None and {**before, "groups": entry["groups"]} == entry:
        navigation_services.set_item_groups(item, wanted_groups, actor=actor, reason=reason)
        return
    item = item or MenuItem(section=section, parent=parent, label=entry["label"])
    target = entry["target"] or {}
    item.icon, item.placement, item.order = entry["icon"], entry["placement"], entry["order"]
    item.page = pages[target["page"]] if "page" in target else None
    item.route_name = target.get("route", "")
    item.report = _bundle_report(section, target["report"]) if "report" in target else None
    item.url = target.get("url", "")
    item.required_permission = entry["required_permission"]
    navigation_services.save_menu_item(item, actor=actor, reason=reason, groups=wanted_groups)
