"""Serializers of sections and section roles. Fields are listed explicitly: a new model field is not published
until someone decides it should be."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.permissions import api_readable_sections
from api.viewsets import reason_field
from tenants.models import Section, SectionRole, SectionRoleKind
from tenants.slugs import validate_section_slug

# Where a section lives and whether it is live are platform decisions, not the team's (as in the admin).
ADMIN_ONLY_FIELDS = ("slug", "status", "hostname")

SECTION_EXAMPLE = {
    "id": 1,
    "url": "https://portal.example.com/api/v1/sections/1/",
    "slug": "finance",
    "name": "Finance",
    "description": "Invoices, budgets and month-end close for the finance team.",
    "status": "active",
    "hostname": None,
    "navigation_layout": "both",
    "default_colour_mode": "auto",
    "lock_colour_mode": False,
    "require_mfa": False,
    "support_email": "finance-portal@example.com",
    "escalation_channel": "Teams: #finance-portal-support",
    "onboarded_at": "2026-01-12T09:30:00Z",
    "created": "2026-01-12T09:30:00Z",
    "updated": "2026-03-02T14:05:11Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A section", value=SECTION_EXAMPLE, response_only=True),
        OpenApiExample(
            "Change the support contacts",
            value={"support_email": "finance-help@example.com", "reason": "New shared mailbox (CHG-1234)"},
            request_only=True,
        ),
    ]
)
class SectionSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A section: one team's portal at /<slug>/. Editors change its contacts and look; platform admins also its
    slug, status and host name."""

    url = serializers.HyperlinkedIdentityField(view_name="api:section-detail")
    reason = reason_field()

    class Meta:
        model = Section
        fields = (
            "id",
            "url",
            "slug",
            "name",
            "description",
            "status",
            "hostname",
            "navigation_layout",
            "default_colour_mode",
            "lock_colour_mode",
            "require_mfa",
            "support_email",
            "escalation_channel",
            "onboarded_at",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("onboarded_at", "created", "updated")
        extra_kwargs = {"hostname": {"allow_null": True, "required": False}}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Onboard the legal team",
            value={
                "slug": "legal",
                "name": "Legal",
                "description": "Contracts and policies.",
                "editors_group": "legal-editors",
                "viewers_group": "legal-staff",
                "reason": "Onboarding request ONB-42",
            },
            request_only=True,
        )
    ]
)
class SectionOnboardingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What onboarding needs: the section, the directory group of its editors and, optionally, of its viewers."""

    slug = serializers.CharField(max_length=50, validators=[validate_section_slug], help_text="The address: /<slug>/.")
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    editors_group = serializers.CharField(max_length=150, help_text="Directory group whose members edit the section.")
    viewers_group = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Directory group whose members may visit it (empty: every signed-in user).",
    )
    reason = reason_field()


class ReadableSectionField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A section id, among the sections this call may read: any other id "does not exist"."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return api_readable_sections(request) if request is not None else Section.objects.none()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A role",
            value={
                "id": 7,
                "url": "https://portal.example.com/api/v1/section-roles/7/",
                "section": 1,
                "section_slug": "finance",
                "group": "finance-editors",
                "role": "editor",
                "created": "2026-01-12T09:30:00Z",
            },
            response_only=True,
        ),
        OpenApiExample(
            "Let a group visit the section",
            value={"section": 1, "group": "finance-staff", "role": "viewer", "reason": "Access request ACC-77"},
            request_only=True,
        ),
    ]
)
class SectionRoleSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A directory group's role in a section: editors change its configuration, viewers may visit it."""

    url = serializers.HyperlinkedIdentityField(view_name="api:section-role-detail")
    section = ReadableSectionField(help_text="The section's id.")
    section_slug = serializers.CharField(source="section.slug", read_only=True)
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), help_text="The directory group's name."
    )
    role = serializers.ChoiceField(choices=SectionRoleKind.choices)
    reason = reason_field()

    class Meta:
        model = SectionRole
        fields = ("id", "url", "section", "section_slug", "group", "role", "created", "reason")
        read_only_fields = ("created",)
        # The (section, group, role) uniqueness is the service's business: granting twice is a no-op.
        validators: list[Any] = []
