"""Menu items and their group mapping: rows in a section's menu, each shown to the members of its groups.

A menu is a tree of at most three levels. Each item has exactly one target: a named platform route, a page of
the section, a shared report of the section, or an external https URL. Which groups see an item is its own table
(`MenuItemGroup`), with history, so "who sees what" is auditable on its own.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, reverse
from simple_history.models import HistoricalRecords

from tenants.models import Page, SectionScopedModel

MAX_DEPTH = 3
ICON_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@lru_cache(maxsize=1)
def known_icons() -> frozenset[str]:
    """Bootstrap Icons' names, from the npm package's manifest (empty when the package is not installed)."""
    manifest = settings.NODE_MODULES / "bootstrap-icons" / "font" / "bootstrap-icons.json"
    try:
        return frozenset(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return frozenset()


def validate_icon(value: str) -> None:
    icons = known_icons()
    if not ICON_PATTERN.match(value) or (icons and value not in icons):
        raise ValidationError(
            "“%(icon)s” is not a Bootstrap Icons name (e.g. “house”, “bar-chart”).", params={"icon": value}
        )


def validate_external_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ValidationError("External links must be https:// addresses (no javascript:, data: or http:).")


class Placement(models.TextChoices):
    TOP = "top", "Top bar"
    SIDEBAR = "sidebar", "Sidebar"
    BOTH = "both", "Top bar and sidebar"


class TargetKind(models.TextChoices):
    PAGE = "page", "A page of the section"
    ROUTE = "route", "A platform page (named route)"
    REPORT = "report", "A report of the section"
    URL = "url", "An external address"
    NONE = "none", "Nothing (a heading for its children)"


class MenuItem(SectionScopedModel):
    """One entry in a section's menu."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    label = models.CharField(max_length=80)
    icon = models.CharField(max_length=60, blank=True, validators=[validate_icon], help_text="Bootstrap Icons name.")
    placement = models.CharField(max_length=10, choices=Placement.choices, default=Placement.BOTH)
    order = models.PositiveIntegerField(default=0, db_index=True)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE, related_name="menu_items")
    route_name = models.CharField(max_length=100, blank=True, help_text="A named platform route, e.g. “home”.")
    report = models.ForeignKey(
        "reports.ReportDefinition",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,  # a linked report cannot be deleted alone; with its section, both go
        related_name="menu_items",
        help_text="A shared report of the same section (its page, /reports/<id>/).",
    )
    url = models.URLField(max_length=500, blank=True, validators=[validate_external_url])
    required_permission = models.CharField(
        max_length=100,
        blank=True,
        help_text="Optional: also require this permission (app_label.codename), granted to one of the user's groups.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "parent_id", "order", "label"]
        indexes = [models.Index(fields=["section", "parent", "order"])]

    def __str__(self) -> str:
        return self.label

    @property
    def target_kind(self) -> str:
        if self.page_id:
            return TargetKind.PAGE
        if self.route_name:
            return TargetKind.ROUTE
        if self.report_id:
            return TargetKind.REPORT
        if self.url:
            return TargetKind.URL
        return TargetKind.NONE

    @property
    def href(self) -> str:
        if self.page is not None:
            return self.page.get_absolute_url()
        if self.route_name:
            try:
                return reverse(self.route_name)
            except NoReverseMatch:
                return ""
        if self.report is not None:
            return self.report.get_absolute_url()
        return self.url

    @property
    def is_external(self) -> bool:
        return bool(self.url)

    def depth(self) -> int:
        """1 for a top-level item, 2 for its children, 3 for theirs."""
        level, node, seen = 1, self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "An item cannot be its own ancestor."})
            seen.add(node.pk)
            level += 1
            node = node.parent
        return level

    def subtree_height(self) -> int:
        """How many levels this item and its descendants span (1 for a leaf)."""
        if not self.pk:
            return 1
        children = MenuItem.objects.all_sections().filter(parent_id=self.pk)
        return 1 + max((child.subtree_height() for child in children), default=0)

    def clean(self) -> None:
        targets = [bool(self.page_id), bool(self.route_name), bool(self.report_id), bool(self.url)]
        if sum(targets) > 1:
            raise ValidationError(
                "Give the item one target: a page, a platform route, a report, or an external address."
            )
        if self.report is not None and (self.report.section_id is None or self.report.section_id != self.section_id):
            raise ValidationError({"report": "Choose a shared report of the same section (not a personal one)."})
        if self.route_name:
            try:
                reverse(self.route_name)
            except NoReverseMatch as exc:
                raise ValidationError({"route_name": f"There is no platform route named “{self.route_name}”."}) from exc
        if self.page is not None and self.section_id and self.page.section_id != self.section_id:
            raise ValidationError({"page": "Choose a page of the same section."})
        if self.parent is not None:
            if self.section_id and self.parent.section_id != self.section_id:
                raise ValidationError({"parent": "Choose a parent item of the same section."})
            if self.pk and self.parent.pk == self.pk:
                raise ValidationError({"parent": "An item cannot be its own parent."})
        if self.depth() + self.subtree_height() - 1 > MAX_DEPTH:
            raise ValidationError({"parent": f"Menus have at most {MAX_DEPTH} levels; this would make a deeper one."})
        if self.required_permission and not re.match(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$", self.required_permission):
            raise ValidationError({"required_permission": "Write the permission as app_label.codename."})


class MenuItemGroup(SectionScopedModel):
    """“Members of this group see this item.” An item with no rows here is shown to every viewer of the section."""

    item = models.ForeignKey(MenuItem, on_delete=models.CASCADE, related_name="group_links")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="menu_item_links")

    history = HistoricalRecords()

    class Meta:
        ordering = ["item", "group__name"]
        verbose_name = "menu item group"
        constraints = [models.UniqueConstraint(fields=["item", "group"], name="unique_menu_item_group")]

    def __str__(self) -> str:
        return f"{self.group.name} sees “{self.item.label}”"

    def clean(self) -> None:
        if self.item_id and self.section_id and self.item.section_id != self.section_id:
            raise ValidationError({"item": "Choose an item of the same section."})
