"""The analytics aggregates under /api/v1/analytics/: read-only lists (and single rows) of the daily tables.

Section editors and owners read their sections' rows; platform admins and auditors read every row, including
the platform pages' and the all-sections totals (section null). A section-restricted token sees its section's
rows only. Another section's row is a 404 (retrieve) and absent from lists, never the row.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view

from analytics.access import analytics_sections, reads_platform_analytics
from analytics.models import DailyPageStat, DailySectionStat, DailyTransition
from api.permissions import is_section_restricted, restrict_to_token
from api.viewsets import ReadOnlyApiViewSet

from .serializers import DailyPageStatSerializer, DailySectionStatSerializer, DailyTransitionSerializer

READERS = (
    "Section editors and owners read their sections' rows; platform admins and auditors read every row, the "
    "platform pages' and the all-sections totals (section null) included; a section-restricted token only its "
    "section's. Filter by `section` (slug) and `date_from`/`date_to` (days, inclusive); aggregates are "
    "recomputed every hour for yesterday and today."
)


class DailyFilter(filters.FilterSet):
    section = filters.CharFilter(field_name="section__slug", label="Only this section's rows (its slug).")
    date_from = filters.DateFilter(field_name="day", lookup_expr="gte", label="Days on or after (YYYY-MM-DD).")
    date_to = filters.DateFilter(field_name="day", lookup_expr="lte", label="Days on or before (YYYY-MM-DD).")


class DailySectionStatFilter(DailyFilter):
    scope = filters.ChoiceFilter(
        choices=[("section", "section"), ("platform", "platform"), ("all", "all")],
        label="`section`, `platform` (pages outside any section) or `all` (the all-sections total).",
    )

    class Meta:
        model = DailySectionStat
        fields = ["section", "date_from", "date_to", "scope"]


class DailyPageStatFilter(DailyFilter):
    path = filters.CharFilter(label="Only this page (its exact path, e.g. /finance/pages/3/).")

    class Meta:
        model = DailyPageStat
        fields = ["section", "date_from", "date_to", "path"]


class DailyTransitionFilter(DailyFilter):
    from_path = filters.CharFilter(label="Only steps from this page (exact path).")
    to_path = filters.CharFilter(label="Only steps to this page (exact path).")

    class Meta:
        model = DailyTransition
        fields = ["section", "date_from", "date_to", "from_path", "to_path"]


class AnalyticsReadOnlyViewSet(ReadOnlyApiViewSet):
    """The rows of the caller's sections (plus platform-wide rows for platform readers without a section token)."""

    model: Any = None
    ordering = ("-day", "-id")

    def get_queryset(self) -> QuerySet[Any]:
        readable = Q(section__in=restrict_to_token(self.request, analytics_sections(self.request.user)))
        if reads_platform_analytics(self.request.user) and not is_section_restricted(self.request):
            readable |= Q(section__isnull=True)
        return self.model.objects.filter(readable).select_related("section")


@extend_schema_view(
    list=extend_schema(
        summary="List daily section statistics",
        description=f"Views, visits, daily unique users and time on page per section and day. {READERS}",
    ),
    retrieve=extend_schema(
        summary="Read one section's day",
        description="One section's figures for one day; 404 if the section's analytics are not yours to read.",
    ),
)
class DailySectionStatViewSet(AnalyticsReadOnlyViewSet):
    """Per section and day: views, visits, unique users that day, time on page."""

    model = DailySectionStat
    queryset = DailySectionStat.objects.none()
    serializer_class = DailySectionStatSerializer
    filterset_class = DailySectionStatFilter
    ordering_fields = ["id", "day", "views", "visits", "unique_users"]


@extend_schema_view(
    list=extend_schema(
        summary="List daily page statistics",
        description=f"Per page and day: views, daily unique "
        f"users, visits that began (entries) or ended (exits) there, and time on page. {READERS}",
    ),
    retrieve=extend_schema(
        summary="Read one page's day",
        description="One page's figures for one day; 404 if the section's analytics are not yours to read.",
    ),
)
class DailyPageStatViewSet(AnalyticsReadOnlyViewSet):
    """Per page and day: views, unique users, entries, exits and time on page."""

    model = DailyPageStat
    queryset = DailyPageStat.objects.none()
    serializer_class = DailyPageStatSerializer
    filterset_class = DailyPageStatFilter
    ordering_fields = ["id", "day", "views", "entries", "exits"]


@extend_schema_view(
    list=extend_schema(
        summary="List daily page-to-page steps",
        description=f"How often users went from one page to "
        f"the next within a visit, per day, under the section of the page they left. {READERS}",
    ),
    retrieve=extend_schema(
        summary="Read one day's step",
        description="One page-to-page step of one day; 404 if the section's analytics are not yours to read.",
    ),
)
class DailyTransitionViewSet(AnalyticsReadOnlyViewSet):
    """Per day: how often users went from one page to the next."""

    model = DailyTransition
    queryset = DailyTransition.objects.none()
    serializer_class = DailyTransitionSerializer
    filterset_class = DailyTransitionFilter
    ordering_fields = ["id", "day", "count"]
