"""Serializers of security events and of the configuration history (read-only: both are written by the platform,
never by clients)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from accounts.models import SecurityEvent
from api.fields import FieldsMixin


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A refused token",
            value={
                "id": 4711,
                "created": "2026-04-02T02:00:13Z",
                "event_type": "sign_in_failed",
                "success": False,
                "username": "fiona",
                "method": "token",
                "reason": "expired token",
                "ip_address": "10.20.4.17",
                "user_agent": "curl/8.5.0",
                "section_slug": "",
                "request_id": "5f0c3c7e9d2b4a51",
                "path": "/api/v1/sections/",
                "detail": {"token": "Q7fK2mZp"},
            },
            response_only=True,
        )
    ]
)
class SecurityEventSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One security event: who, what, from where, with which outcome."""

    class Meta:
        model = SecurityEvent
        fields = (
            "id",
            "created",
            "event_type",
            "success",
            "username",
            "method",
            "reason",
            "ip_address",
            "user_agent",
            "section_slug",
            "request_id",
            "path",
            "detail",
        )
        read_only_fields = fields


HISTORY_EXAMPLE = {
    "history_id": 981,
    "model": "navigation.menuitem",
    "model_name": "Menu item",
    "object_id": "12",
    "object": "Month-end calendar",
    "action": "changed",
    "date": "2026-04-02T09:14:03.512000Z",
    "user": "fiona",
    "section": "finance",
    "reason": "Renamed for the new close calendar (CHG-2003)",
    "history_url": "/audit/history/navigation/menuitem/12/",
}


@extend_schema_serializer(examples=[OpenApiExample("A menu item renamed", value=HISTORY_EXAMPLE, response_only=True)])
class HistoryEntrySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One configuration change: which row of which table, what happened, when, by whom, in which section, and why."""

    history_id = serializers.IntegerField(help_text="The history row's id in its table (unique per `model`).")
    model = serializers.CharField(help_text="The table, as app_label.model_name (e.g. navigation.menuitem).")
    model_name = serializers.CharField(help_text="The table's name as the audit pages show it.")
    object_id = serializers.CharField(help_text="The changed row's id.")
    object = serializers.CharField(help_text="The changed row's label (title, label, name, …) at that version.")
    action = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    date = serializers.DateTimeField()
    user = serializers.CharField(help_text="Who made the change (`system`: migrations, jobs, the demo loader).")
    section = serializers.CharField(allow_null=True, help_text="The section's slug; null for platform tables.")
    reason = serializers.CharField(allow_blank=True, help_text="The change reason recorded with it.")
    history_url = serializers.CharField(help_text="The object's history page (versions with field changes).")


@extend_schema_serializer(many=False)  # one page object holding the list, not a list of pages
class HistoryPageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One page of changes, newest first; follow `next` for the older ones."""

    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null after the last.")
    previous = serializers.URLField(allow_null=True, help_text="Always null: walk the history forwards.")
    results = HistoryEntrySerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The history list's query parameters (validated: a bad one is a 400 problem naming it)."""

    model = serializers.CharField(
        required=False, help_text="Only this table, as app_label.model_name (e.g. navigation.menuitem)."
    )
    section = serializers.SlugField(
        required=False, help_text="Only this section's tables and rows (its slug); platform tables are left out."
    )
    user = serializers.CharField(required=False, max_length=150, help_text="Only changes by this user name (exact).")
    action = serializers.ChoiceField(
        choices=["created", "changed", "deleted"], required=False, help_text="Only this kind of change."
    )
    object_id = serializers.IntegerField(required=False, min_value=1, help_text="Only the versions of this row id.")
    date_from = serializers.DateField(required=False, help_text="Changes on or after this day (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Changes on or before this day (YYYY-MM-DD).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": "The end date is before the start date."})
        return attrs
