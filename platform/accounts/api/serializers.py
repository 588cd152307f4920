"""Serializers of personal API tokens. The secret is never readable: only the create response carries it, once."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.models import ApiToken, TokenScope
from accounts.tokens import token_sections
from api.fields import FieldsMixin
from tenants.models import Section

TOKEN_EXAMPLE = {
    "id": 12,
    "url": "https://portal.example.com/api/v1/tokens/12/",
    "name": "nightly budget export",
    "prefix": "atr_Q7fK2mZp…",
    "scope": "read",
    "section": 1,
    "section_slug": "finance",
    "allowed_ips": "10.20.0.0/16",
    "expires_at": "2026-06-30T00:00:00Z",
    "created": "2026-04-01T08:00:00Z",
    "last_used_at": "2026-04-02T02:00:13Z",
    "last_used_ip": "10.20.4.17",
    "revoked_at": None,
    "active": True,
}


class VisitableSectionField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A section id among those the caller may visit: any other id "does not exist" for them."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return token_sections(request.user) if request is not None else Section.objects.none()


@extend_schema_serializer(examples=[OpenApiExample("A token", value=TOKEN_EXAMPLE, response_only=True)])
class ApiTokenSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One of your API tokens: its limits and its last use. The secret itself is never shown again."""

    url = serializers.HyperlinkedIdentityField(view_name="api:token-detail")
    prefix = serializers.CharField(source="display_prefix", read_only=True, help_text="How to recognise the token.")
    section_slug = serializers.CharField(source="section.slug", read_only=True, allow_null=True, default=None)
    active = serializers.SerializerMethodField(help_text="Neither revoked nor expired.")

    class Meta:
        model = ApiToken
        fields: tuple[str, ...] = (
            "id",
            "url",
            "name",
            "prefix",
            "scope",
            "section",
            "section_slug",
            "allowed_ips",
            "expires_at",
            "created",
            "last_used_at",
            "last_used_ip",
            "revoked_at",
            "active",
        )
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(serializers.BooleanField())
    def get_active(self, token: ApiToken) -> bool:
        return token.is_active()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A read token for the finance section, from the job servers only",
            value={
                "name": "nightly budget export",
                "scope": "read",
                "section": 1,
                "allowed_ips": "10.20.0.0/16",
                "expires_at": "2026-06-30T00:00:00Z",
            },
            request_only=True,
        ),
        OpenApiExample(
            "The created token (the only time `token` is shown)",
            value={**TOKEN_EXAMPLE, "token": "atr_Q7fK2mZp" + "x" * 40},
            response_only=True,
        ),
    ]
)
class ApiTokenCreateSerializer(ApiTokenSerializer):
    """A new token. `token` (the secret) is in this response only: store it now, it cannot be shown again."""

    token = serializers.CharField(read_only=True, help_text="The token itself; shown once, never stored.")
    section = VisitableSectionField(
        required=False,
        allow_null=True,
        help_text="Restrict the token to this section (a section you may visit); empty: no restriction.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "token")
        read_only_fields = tuple(
            f
            for f in ApiTokenSerializer.Meta.fields
            if f not in ("name", "scope", "section", "allowed_ips", "expires_at")
        )
        extra_kwargs: dict[str, Any] = {
            "scope": {"default": TokenScope.READ},
            "expires_at": {"required": False, "help_text": "When the token stops working (default: in 90 days)."},
            "allowed_ips": {"required": False},
        }

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        plaintext = self.context.get("plaintext")
        if plaintext:
            data["token"] = plaintext
        return data
