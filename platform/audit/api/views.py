"""Security events through the API: the same records as /audit/security/, for platform admins and auditors."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view

from accounts.models import SecurityEvent
from api.viewsets import PlatformReadOnlyViewSet

from .serializers import SecurityEventSerializer


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
