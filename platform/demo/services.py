"""Loads the demo from a YAML file through the same services a platform admin would use; idempotent."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.contrib.auth.models import Group

from core.services import run_in_transaction
from jobs.sync import ensure_demo_sources
from navigation import services as navigation_services
from navigation.models import MenuItem
from reports.demo import ensure_demo_datasets
from reports.models import ReportDefinition
from tenants import services as tenant_services
from tenants.models import Page, Section, SectionRoleKind
from themes.bundled import ensure_bundled_themes
from themes.models import Theme
from themes.resolution import forget_default_theme

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo.yaml"
REASON = "Demo data"


def load_demo(path: Path = DEMO_FILE, *, actor: Any = None) -> list[str]:
    """Create or update the demo sections from `path`; returns one line per section saying what happened."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    ensure_bundled_themes(Theme)
    forget_default_theme()
    report = []
    for spec in data.get("sections", []):
        report.append(run_in_transaction(partial(_load_section, spec, actor)))
    report += ensure_demo_sources(actor)  # the demo's synced data (finance's AP invoices), from a local source
    report += ensure_demo_datasets(actor)  # the catalog's demo datasets (invoices, headcount) and their syncs
    for spec in data.get("sections", []):
        if spec.get("report_links"):
            report.append(run_in_transaction(partial(_link_reports, spec, actor)))
    return report


def _link_reports(spec: dict[str, Any], actor: Any) -> str:
    """Menu items that open the section's demo reports; added after the catalog, which creates the reports."""
    section = Section.objects.get(slug=spec["slug"])
    offset = len(spec.get("menu", []))
    for position, link in enumerate(spec["report_links"]):
        _ensure_menu_item(section, link, offset + position, {}, None, actor)
    return f"{section.slug}: {len(spec['report_links'])} report links"


def _load_section(spec: dict[str, Any], actor: Any) -> str:
    result = tenant_services.onboard_section(
        slug=spec["slug"],
        name=spec["name"],
        description=spec.get("description", ""),
        editors_group=spec["editors"][0],
        viewers_group=(spec.get("viewers") or [None])[0],
        actor=actor,
        reason=REASON,
    )
    section = result.section
    for group_name in spec.get("editors", [])[1:]:
        group, _ = Group.objects.get_or_create(name=group_name)
        tenant_services.grant_section_role(section, group, SectionRoleKind.EDITOR, actor=actor, reason=REASON)
    for group_name in (spec.get("viewers") or [])[1:]:
        group, _ = Group.objects.get_or_create(name=group_name)
        tenant_services.grant_section_role(section, group, SectionRoleKind.VIEWER, actor=actor, reason=REASON)
    changed = _apply_settings(section, spec, actor)
    pages = {p["slug"]: _ensure_page(section, p, actor) for p in spec.get("pages", [])}
    pages.setdefault("home", Page.objects.all_sections().get(section=section, slug="home"))
    for position, item in enumerate(spec.get("menu", [])):
        _ensure_menu_item(section, item, position, pages, None, actor)
    state = "created" if result.created else ("updated" if changed else "unchanged")
    return f"{section.slug}: {state}"


def _apply_settings(section: Section, spec: dict[str, Any], actor: Any) -> bool:
    wanted = {
        "description": spec.get("description", section.description),
        "navigation_layout": spec.get("navigation_layout", section.navigation_layout),
        "escalation_channel": spec.get("escalation_channel", section.escalation_channel),
        "support_email": spec.get("support_email", section.support_email),
    }
    if all(getattr(section, k) == v for k, v in wanted.items()):
        return False
    for key, value in wanted.items():
        setattr(section, key, value)
    tenant_services.save_section(section, actor=actor, reason=REASON)
    return True


def _ensure_page(section: Section, spec: dict[str, Any], actor: Any) -> Page:
    page = Page.objects.all_sections().filter(section=section, slug=spec["slug"]).first() or Page(
        section=section, slug=spec["slug"]
    )
    if page.pk and page.title == spec["title"] and page.body == spec.get("body", ""):
        return page
    page.title, page.body = spec["title"], spec.get("body", "")
    tenant_services.save_page(page, actor=actor, reason=REASON)
    return page


def _report(section: Section, slug: str) -> ReportDefinition:
    return ReportDefinition.objects.get(section=section, slug=slug)


def _ensure_menu_item(
    section: Section, spec: dict[str, Any], position: int, pages: dict[str, Page], parent: MenuItem | None, actor: Any
) -> None:
    item = MenuItem.objects.all_sections().filter(section=section, parent=parent, label=spec["label"]).first()
    wanted = {
        "page": pages.get(spec["page"]) if spec.get("page") else None,
        "url": spec.get("url", ""),
        "route_name": spec.get("route", ""),
        "report": _report(section, spec["report"]) if spec.get("report") else None,
        "icon": spec.get("icon", ""),
        "placement": spec.get("placement", "both"),
        "order": (position + 1) * 10,
    }
    groups = [Group.objects.get_or_create(name=n)[0] for n in sorted(spec.get("groups", []))]
    current_groups = sorted(item.group_links.values_list("group__name", flat=True)) if item else None
    if (
        item is None
        or any(getattr(item, k) != v for k, v in wanted.items())
        or current_groups != [g.name for g in groups]
    ):
        item = item or MenuItem(section=section, parent=parent, label=spec["label"])
        for key, value in wanted.items():
            setattr(item, key, value)
        navigation_services.save_menu_item(item, actor=actor, reason=REASON, groups=groups)
    for child_position, child in enumerate(spec.get("children", [])):
        _ensure_menu_item(section, child, child_position, pages, item, actor)
