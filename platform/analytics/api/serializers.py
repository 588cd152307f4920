"""Serializers of the daily analytics aggregates (read-only): one row per day and section, page, or step."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from analytics.models import DURATION_BUCKETS_MS, DailyPageStat, DailySectionStat, DailyTransition
from api.fields import FieldsMixin

HISTOGRAM_HELP = (
    "Views per time-on-page bucket; the buckets' upper edges in milliseconds are "
    + ", ".join(str(edge) for edge in DURATION_BUCKETS_MS)
    + ", and the last bucket holds longer times. Add days' histograms to get a range's median."
)


def section_field() -> serializers.SlugRelatedField:  # type: ignore[type-arg]
    return serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The section's slug; null for the platform's own pages (and the all-sections total).",
    )


def histogram_field() -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(), read_only=True, help_text=HISTOGRAM_HELP)


SECTION_EXAMPLE = {
    "id": 4102,
    "day": "2026-04-01",
    "scope": "section",
    "section": "finance",
    "views": 182,
    "visits": 51,
    "unique_users": 37,
    "timed_views": 160,
    "total_duration_ms": 9120400,
    "median_duration_ms": 34800,
    "duration_histogram": [2, 3, 4, 9, 8, 14, 17, 12, 20, 18, 15, 14, 7, 8, 5, 3, 1, 0, 0, 0],
}


@extend_schema_serializer(examples=[OpenApiExample("A section's day", value=SECTION_EXAMPLE, response_only=True)])
class DailySectionStatSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One section's day: views, visits, unique users that day and time on page."""

    section = section_field()
    scope = serializers.CharField(
        read_only=True,
        help_text="`section` (one section), `platform` (pages outside any section) or `all` (everything: unique "
        "users cannot be added up across sections, so the total has its own row).",
    )
    duration_histogram = histogram_field()

    class Meta:
        model = DailySectionStat
        fields = (
            "id",
            "day",
            "scope",
            "section",
            "views",
            "visits",
            "unique_users",
            "timed_views",
            "total_duration_ms",
            "median_duration_ms",
            "duration_histogram",
        )
        read_only_fields = fields


PAGE_EXAMPLE = {
    "id": 90211,
    "day": "2026-04-01",
    "section": "finance",
    "path": "/finance/pages/3/",
    "route_name": "tenants:page",
    "views": 41,
    "unique_users": 29,
    "entries": 6,
    "exits": 11,
    "timed_views": 37,
    "total_duration_ms": 1790300,
    "median_duration_ms": 38100,
    "duration_histogram": [0, 1, 1, 2, 1, 3, 4, 3, 5, 5, 4, 3, 2, 2, 1, 0, 0, 0, 0, 0],
}


@extend_schema_serializer(examples=[OpenApiExample("A page's day", value=PAGE_EXAMPLE, response_only=True)])
class DailyPageStatSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One page's day: views, unique users that day, visits that began or ended there, time on page."""

    section = section_field()
    duration_histogram = histogram_field()

    class Meta:
        model = DailyPageStat
        fields = (
            "id",
            "day",
            "section",
            "path",
            "route_name",
            "views",
            "unique_users",
            "entries",
            "exits",
            "timed_views",
            "total_duration_ms",
            "median_duration_ms",
            "duration_histogram",
        )
        read_only_fields = fields


TRANSITION_EXAMPLE = {
    "id": 5120,
    "day": "2026-04-01",
    "section": "finance",
    "from_path": "/finance/",
    "to_path": "/finance/pages/3/",
    "count": 17,
}


@extend_schema_serializer(
    examples=[OpenApiExample("A step from page to page", value=TRANSITION_EXAMPLE, response_only=True)]
)
class DailyTransitionSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """How often, that day, users went from one page to the next within a visit (under the section they left)."""

    section = section_field()

    class Meta:
        model = DailyTransition
        fields = ("id", "day", "section", "from_path", "to_path", "count")
        read_only_fields = fields
