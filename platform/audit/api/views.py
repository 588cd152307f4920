"""Security events and the configuration history through the API: the same records as /audit/security/ and
/audit/changes/, for platform admins and auditors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import SecurityEvent
from api.permissions import ApiAccess, PlatformReaders
from api.viewsets import PlatformReadOnlyViewSet
from audit.queries import TimelineFilters, history_model_for
from tenants.models import Section

from .history import CURSOR_PARAM, LIMIT_PARAM, history_page
from .serializers import (
    HISTORY_EXAMPLE,
    HistoryEntrySerializer,
    HistoryPageSerializer,
    HistoryQuerySerializer,
    SecurityEventSerializer,
)


class SecurityEventFilter(filters.FilterSet):
    event_type = filters.CharFilter(label="Only this kind of event, e.g. sign_in_failed or token_created.")
    success = filters.BooleanFilter(label="Only successes (true) or only failures (false).")
    username = filters.CharFilter(label="Only events of this user name (exact).")
    method = filters.CharFilter(label="Only this sign-in method: mock, ldap, oidc, saml, local, token, …")
    ip_address = filters.CharFilter(label="Only events from this IP address.")
    section_slug = filters.CharFilter(label="Only events in this section (its slug).")
    request_id = filters.CharFilter(label="Only the events of this request.")
    since = filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte", label="Events at or after (ISO 8601).")
    until = filters.IsoDateTimeFilter(field_name="created", lookup_expr="lt", label="Events before (ISO 8601).")

    class Meta:
        model = SecurityEvent
        fields = ["event_type", "success", "username", "method", "ip_address", "section_slug", "request_id"]


@extend_schema_view(
    list=extend_schema(
        summary="List security events",
        description="Sign-ins and failures, lock-outs, denials, rights granted and revoked, tokens created and "
        "revoked, exports and every other security event, newest first. Platform admins and auditors only, and not "
        "with a section-restricted token.",
    ),
    retrieve=extend_schema(summary="Read a security event", description="One security event, with its details."),
)
class SecurityEventViewSet(PlatformReadOnlyViewSet):
    """Security events, read-only, for platform admins and auditors."""

    queryset = SecurityEvent.objects.none()
    serializer_class = SecurityEventSerializer
    filterset_class = SecurityEventFilter
    ordering_fields = ["id", "created"]
    ordering = ("-created", "-id")

    def get_queryset(self) -> QuerySet[SecurityEvent]:
        return SecurityEvent.objects.all()


class HistoryViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The configuration history across every table with history, read-only, for platform admins and auditors."""

    permission_classes = [ApiAccess, PlatformReaders]
    platform_wide = True
    # The page is built by .history (a keyset cursor over the timeline's UNION), not by the default backends.
    serializer_class = HistoryEntrySerializer
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(
        summary="List configuration changes",
        description="Every recorded change to configuration (sections, roles, pages, menus and their group mapping, "
        "themes, reports, live settings, …): what changed, when, by whom, in which section and why, newest first, "
        "as on the audit timeline. Platform admins and auditors only, and not with a section-restricted token. "
        "Pages follow a cursor: take `next` as given.",
        parameters=[
            HistoryQuerySerializer,
            OpenApiParameter(CURSOR_PARAM, str, description="Where the page starts; take it from the `next` link."),
            OpenApiParameter(
                LIMIT_PARAM, int, description="How many results per page (default 50, at most API_MAX_PAGE_SIZE: 500)."
            ),
        ],
        responses=HistoryPageSerializer,
        examples=[
            OpenApiExample(
                "A page of changes",
                value={
                    "next": "https://portal.example.com/api/v1/history/?cursor=WyIyMDI2LTA0LTAyVDA5OjE0OjAzIl0&limit=1",
                    "previous": None,
                    "results": [HISTORY_EXAMPLE],
                },
                response_only=True,
            )
        ],
    )
    def list(self, request: Request) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        model = None
        if data.get("model"):
            app_label, _, model_name = data["model"].partition(".")
            model = history_model_for(app_label, model_name)
            if model is None:
                raise serializers.ValidationError({"model": f"No table with history is called “{data['model']}”."})
        section = None
        if data.get("section"):
            section = Section.objects.filter(slug=data["section"]).first()
            if section is None:
                raise serializers.ValidationError({"section": f"There is no section “{data['section']}”."})
            if model is not None and not model.in_sections:
                raise serializers.ValidationError({"model": f"{data['model']} is a platform table, in no section."})
        filters = TimelineFilters(
            user=data.get("user", ""),
            model=model,
            action=data.get("action", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        return Response(history_page(request, section, filters, data.get("object_id")))
