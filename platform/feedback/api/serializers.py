"""Serializers of bug reports: what a page (or a script) sends, what a reader gets back, what a triager changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.viewsets import reason_field
from feedback.models import BugReport, Comment, Severity, Status

REPORT_EXAMPLE = {
    "id": 42,
    "url": "https://portal.example.com/api/v1/bug-reports/42/",
    "section": "finance",
    "reporter": "frank",
    "description": "The month-end calendar shows no entries for March.",
    "expected": "The closing dates for March.",
    "severity": "high",
    "status": "triaged",
    "assignee": "fiona",
    "page_url": "https://portal.example.com/finance/pages/3/",
    "request_id": "3f9a0c2d8e7b4c1a9d6e5f4a3b2c1d0e",
    "screenshot": "https://portal.example.com/feedback/42/screenshot/",
    "context": {
        "viewport": {"width": 1280, "height": 800},
        "colour_mode": "light",
        "recent_request_ids": ["3f9a0c2d8e7b4c1a9d6e5f4a3b2c1d0e"],
        "js_errors": [],
        "user_agent": "Mozilla/5.0 …",
        "user": "frank",
        "groups": ["finance-staff"],
    },
    "comments": [{"author": "fiona", "body": "Reproduced; the import job skipped March.", "created": "…"}],
    "created": "2026-03-02T14:05:11Z",
    "updated": "2026-03-02T15:10:00Z",
}


class CommentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Comment
        fields = ("id", "author", "body", "created")


@extend_schema_serializer(examples=[OpenApiExample("A bug report", value=REPORT_EXAMPLE, response_only=True)])
class BugReportSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A reported problem, with the page's context and the triage state."""

    url = serializers.HyperlinkedIdentityField(view_name="api:bug-report-detail")
    section = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    screenshot = serializers.SerializerMethodField()
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = BugReport
        fields = (
            "id",
            "url",
            "section",
            "reporter",
            "description",
            "expected",
            "severity",
            "status",
            "assignee",
            "page_url",
            "request_id",
            "screenshot",
            "context",
            "comments",
            "created",
            "updated",
        )
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_screenshot(self, report: BugReport) -> str | None:
        """The screenshot's address (behind the same permission check as the report), or null."""
        if not report.screenshot:
            return None
        request = self.context.get("request")
        path = f"/feedback/{report.pk}/screenshot/"
        return request.build_absolute_uri(path) if request is not None else path


CREATE_EXAMPLE = {
    "description": "The month-end calendar shows no entries for March.",
    "expected": "The closing dates for March.",
    "severity": "high",
    "section": "finance",
    "url": "https://portal.example.com/finance/pages/3/",
    "request_id": "3f9a0c2d8e7b4c1a9d6e5f4a3b2c1d0e",
    "context": '{"viewport": {"width": 1280, "height": 800}, "colour_mode": "light"}',
}


class BugReportCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What a page sends. The user, their groups and the user agent are taken from the request, not the body."""

    description = serializers.CharField(max_length=10000, help_text="What went wrong (required).")
    expected = serializers.CharField(
        max_length=10000, required=False, allow_blank=True, default="", help_text="What you expected instead."
    )
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.MEDIUM)
    section = serializers.SlugField(
        required=False,
        allow_blank=True,
        default="",
        help_text="The slug of the section the page belongs to (empty for platform pages).",
    )
    url = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="The page's address."
    )
    request_id = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default="", help_text="The page's X-Request-ID."
    )
    screenshot = serializers.FileField(
        required=False, allow_null=True, help_text="A PNG or JPEG of the page (at most 5 MB by default)."
    )
    context = serializers.JSONField(
        required=False,
        binary=True,
        default=dict,
        help_text="The browser's context as a JSON object: viewport, colour_mode, page_request_id, "
        "recent_request_ids, js_errors, device_pixel_ratio.",
    )

    def validate_context(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class BugReportTriageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What a triager changes: the status (new → triaged → in progress → resolved) and the assignee."""

    status = serializers.ChoiceField(choices=Status.choices, required=False)
    assignee = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="The username of a section editor, or null for nobody.",
    )
    reason = reason_field()
