"""Serializer of security events (read-only: the security stream is written by the platform, never by clients)."""

from __future__ import annotations

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
