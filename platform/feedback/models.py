"""Bug reports sent from any page (with a screenshot and the page's context) and the triage comments on them."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel
from tenants.models import Section, SectionScopedManager


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    BLOCKER = "blocker", "Blocker"


class Status(models.TextChoices):
    NEW = "new", "New"
    TRIAGED = "triaged", "Triaged"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"


def screenshot_path(instance: BugReport, filename: str) -> str:
    """Where a screenshot is stored under MEDIA_ROOT: never the uploaded name, which the sender chose."""
    extension = "jpg" if filename.lower().endswith((".jpg", ".jpeg")) else "png"
    where = instance.section.slug if instance.section is not None else "platform"
    return f"feedback/{where}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{extension}"


class BugReport(TimeStampedModel):
    """A problem someone reported from a page. Platform pages have no section; their reports go to the admins.

    Not a `SectionScopedModel` only because the section may be empty; the manager is the same one, so inside a
    section the default queryset is still limited to it.
    """

    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.CASCADE, db_index=True, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="bug_reports"
    )
    description = models.TextField(help_text="What went wrong.")
    expected = models.TextField(blank=True, help_text="What the reporter expected to happen.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_bug_reports"
    )
    page_url = models.CharField(max_length=2000, blank=True, help_text="The address of the page it was sent from.")
    request_id = models.CharField(max_length=128, blank=True, help_text="The X-Request-ID of that page.")
    screenshot = models.FileField(upload_to=screenshot_path, blank=True, max_length=255)
    context = models.JSONField(
        default=dict, blank=True, help_text="Browser, viewport, colour mode, recent request ids and JS errors."
    )

    history = HistoricalRecords(excluded_fields=["updated"])

    objects: ClassVar[SectionScopedManager] = SectionScopedManager()

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["section", "status"])]

    def __str__(self) -> str:
        first_line = self.description.strip().splitlines()[0] if self.description.strip() else ""
        return f"#{self.pk} {first_line[:60]}"

    def get_absolute_url(self) -> str:
        return reverse("feedback:detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED


class Comment(TimeStampedModel):
    """A note on a report, by its reporter or a triager."""

    report = models.ForeignKey(BugReport, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()

    history = HistoricalRecords(excluded_fields=["updated"])

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"Comment on #{self.report_id}"
