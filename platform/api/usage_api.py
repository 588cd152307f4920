"""The usage audit through the API (/api/v1/usage/): read-only, for platform admins and auditors."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers

from .fields import FieldsMixin
from .models import ApiUsage
from .usage import status_filter
from .viewsets import PlatformReadOnlyViewSet


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A call",
            value={
                "id": 90210,
                "at": "2026-04-02T02:00:13Z",
                "username": "fiona",
                "token_prefix": "Q7fK2mZp",
                "method": "GET",
                "route": "/api/v1/sections/<int:pk>/",
                "path": "/api/v1/sections/1/",
                "view_name": "api:section-detail",
                "status": 200,
                "duration_ms": 18,
                "ip_address": "10.20.4.17",
                "request_id": "5f0c3c7e9d2b4a51",
            },
            response_only=True,
        )
    ]
)
class ApiUsageSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One API call: who, with which token, which endpoint, the status and how long it took."""

    class Meta:
        model = ApiUsage
        fields = (
            "id",
            "at",
            "username",
            "token_prefix",
            "method",
            "route",
            "path",
            "view_name",
            "status",
            "duration_ms",
            "ip_address",
            "request_id",
        )
        read_only_fields = fields


class ApiUsageFilter(filters.FilterSet):
    method = filters.CharFilter(label="Only calls with this HTTP method, e.g. POST.")
    token_prefix = filters.CharFilter(label="Only calls made with this token (its 8-character prefix).")
    user = filters.CharFilter(field_name="username", label="Exact user name.")
    status = filters.CharFilter(method="filter_status", label="A status (404) or a class of them (4xx).")
    route = filters.CharFilter(lookup_expr="icontains", label="Part of the URL pattern, e.g. sections.")
    since = filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte", label="Calls at or after (ISO 8601).")
    until = filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Calls before (ISO 8601).")

    class Meta:
        model = ApiUsage
        fields = ["method", "token_prefix"]

    def filter_status(self, queryset: QuerySet[ApiUsage], name: str, value: str) -> QuerySet[ApiUsage]:
        return status_filter(queryset, value)


@extend_schema_view(
    list=extend_schema(
        summary="List API calls",
        description="The usage audit, newest first: every API call with its user, token, endpoint, status and "
        "duration, kept for API_USAGE_RETENTION_DAYS. Platform admins and auditors only.",
    ),
    retrieve=extend_schema(summary="Read one API call", description="One recorded API call."),
)
class ApiUsageViewSet(PlatformReadOnlyViewSet):
    """The API usage audit, read-only, for platform admins and auditors."""

    queryset = ApiUsage.objects.none()
    serializer_class = ApiUsageSerializer
    filterset_class = ApiUsageFilter
    ordering_fields = ["id", "at", "duration_ms"]
    ordering = ("-at", "-id")

    def get_queryset(self) -> QuerySet[ApiUsage]:
        return ApiUsage.objects.all()
