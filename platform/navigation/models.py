"""Menu items: rows in a section's menu, each shown to the members of its groups (or to every viewer)."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from tenants.models import Page, SectionScopedModel


class MenuItem(SectionScopedModel):
    """One entry in a section's menu: a link to a page of the section, or to a URL."""

    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    label = models.CharField(max_length=80)
    page = models.ForeignKey(Page, null=True, blank=True, on_delete=models.CASCADE, related_name="menu_items")
    url = models.CharField(max_length=500, blank=True, help_text="A path in the portal (/finance/…) or an https URL.")
    order = models.PositiveIntegerField(default=0)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="menu_items", help_text="Shown to members of any of these; empty: everyone."
    )

    history = HistoricalRecords(m2m_fields=[groups])

    class Meta:
        ordering = ["section", "parent_id", "order", "label"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if bool(self.page_id) == bool(self.url):
            raise ValidationError("Link the item to a page of the section or to a URL (one of the two).")
        if self.url and not (self.url.startswith("/") or self.url.startswith("https://")):
            raise ValidationError({"url": "Use a path starting with / or an https:// address."})
        if self.page is not None and self.section_id and self.page.section_id != self.section_id:
            raise ValidationError({"page": "Choose a page of the same section."})
        if self.parent is not None and self.section_id and self.parent.section_id != self.section_id:
            raise ValidationError({"parent": "Choose a parent item of the same section."})

    @property
    def href(self) -> str:
        return self.page.get_absolute_url() if self.page is not None else self.url
