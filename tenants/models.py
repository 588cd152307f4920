"""Sections, section roles and section pages, plus the base every section-owned model inherits."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.context import current_section
from core.models import TimeStampedModel

from .slugs import validate_section_slug


class SectionStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class NavigationLayout(models.TextChoices):
    TOP = "top", "Top bar"
    SIDEBAR = "sidebar", "Sidebar"
    BOTH = "both", "Top bar and sidebar"


class SectionQuerySet(models.QuerySet["Section"]):
    def live(self) -> SectionQuerySet:
        """Sections that serve visitors (not archived)."""
        return self.exclude(status=SectionStatus.ARCHIVED)


class Section(TimeStampedModel):
    """One team's portal, served at /<slug>/ (or on its own host name)."""

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[validate_section_slug],
        help_text="The section's address: /<slug>/. Lowercase letters, digits and hyphens.",
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=SectionStatus.choices, default=SectionStatus.ONBOARDING)
    hostname = models.CharField(
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        help_text="Optional host name that serves this section at its root, e.g. finance.portal.example.com.",
    )
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="owned_sections")
    primary_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backup_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    support_email = models.EmailField(blank=True)
    escalation_channel = models.CharField(
        max_length=200, blank=True, help_text="Where incidents go, e.g. a Teams channel or an on-call queue."
    )
    default_theme = models.ForeignKey(
        "themes.Theme", null=True, blank=True, on_delete=models.SET_NULL, related_name="sections"
    )
    navigation_layout = models.CharField(
        max_length=10, choices=NavigationLayout.choices, default=NavigationLayout.SIDEBAR
    )
    default_colour_mode = models.CharField(
        max_length=5,
        choices=[("light", "Light"), ("dark", "Dark"), ("auto", "Auto (follow the system)")],
        default="auto",
        help_text="The colour mode visitors start with.",
    )
    lock_colour_mode = models.BooleanField(
        default=False, help_text="Visitors cannot change the colour mode in this section (e.g. for wall displays)."
    )
    require_mfa = models.BooleanField(
        default=False, help_text="Visitors must have used a second factor (IdP MFA, or an authenticator code)."
    )
    # Bumped by the services on every configuration change in this section; part of every cache key.
    config_version = models.PositiveBigIntegerField(default=1, editable=False)
    onboarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    onboarded_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["config_version", "updated"], m2m_fields=[owners])

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tenants:section-home", kwargs={"section_slug": self.slug})

    @property
    def is_archived(self) -> bool:
        return self.status == SectionStatus.ARCHIVED


class SectionScopedQuerySet(models.QuerySet[Any]):
    def in_section(self, section: Section) -> SectionScopedQuerySet:
        return self.filter(section=section)


class SectionScopedManager(models.Manager[Any]):
    """Limits the default queryset to the current section whenever one is active (request or `using_section`)."""

    def get_queryset(self) -> SectionScopedQuerySet:
        queryset = SectionScopedQuerySet(self.model, using=self._db)
        section = current_section()
        return queryset.filter(section=section) if section is not None else queryset

    def all_sections(self) -> SectionScopedQuerySet:
        """Explicit cross-section read: for platform admins, auditors and jobs only."""
        return SectionScopedQuerySet(self.model, using=self._db)


class SectionScopedModel(TimeStampedModel):
    """Base for every model that belongs to a section."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, db_index=True, related_name="+")

    objects: ClassVar[SectionScopedManager] = SectionScopedManager()

    class Meta:
        abstract = True


class SectionRoleKind(models.TextChoices):
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


class SectionRole(SectionScopedModel):
    """A group's role in a section: editors change its configuration, viewers may visit it."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="section_roles")
    role = models.CharField(max_length=10, choices=SectionRoleKind.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["section__name", "role", "group__name"]
        constraints = [models.UniqueConstraint(fields=["section", "group", "role"], name="unique_section_group_role")]

    def __str__(self) -> str:
        return f"{self.group.name} → {self.get_role_display()} of {self.section.name}"


class Page(SectionScopedModel):
    """A simple content page of a section; the page with slug `home` is the section's home page."""

    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Plain text; blank lines separate paragraphs.")
    published = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["section__name", "title"]
        constraints = [models.UniqueConstraint(fields=["section", "slug"], name="unique_page_slug_per_section")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("tenants:page", kwargs={"section_slug": self.section.slug, "page_id": self.pk})
