"""Serializers of catalog entries (datasets) and report definitions. Fields are listed explicitly; a dataset's
columns are only those the caller may receive (reports.access.visible_columns)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.permissions import restrict_to_token
from api.viewsets import reason_field
from reports.access import dataset_freshness, visible_columns, visible_datasets
from reports.datasets import UnknownDataset, get_dataset
from reports.models import Dataset, DatasetColumn, ReportDefinition
from tenants.models import Section

DATASET_EXAMPLE = {
    "id": 1,
    "url": "https://portal.example.com/api/v1/datasets/1/",
    "key": "finance.invoices",
    "title": "Supplier invoices",
    "description": "Every supplier invoice booked in the accounts-payable system since 2023.",
    "owner_section": 1,
    "owner_section_slug": "finance",
    "steward_name": "Fiona Fischer",
    "steward_email": "fiona@example.com",
    "source_system": "Accounts-payable platform (AP)",
    "sensitivity": "confidential",
    "freshness_target_minutes": None,
    "columns": [
        {"name": "invoice_number", "title": "Invoice", "type": "text", "description": "The invoice's number."},
        {"name": "amount", "title": "Amount", "type": "decimal", "description": "Gross amount."},
    ],
    "freshness": {
        "synced": True,
        "last_success_at": "2026-11-27T03:30:00Z",
        "target_minutes": 120,
        "stale": False,
        "job_name": "sync:finance-invoices",
    },
    "lineage": {"source_system": "Accounts-payable platform (AP)", "sync_source": "finance-invoices", "reports": 1},
    "created": "2026-01-12T09:30:00Z",
    "updated": "2026-03-02T14:05:11Z",
}

REPORT_EXAMPLE = {
    "id": 3,
    "url": "https://portal.example.com/api/v1/reports/3/",
    "section": 1,
    "section_slug": "finance",
    "owner": None,
    "title": "Open invoices by supplier",
    "slug": "invoices-by-supplier",
    "description": "Open invoices, largest first.",
    "dataset": 1,
    "dataset_key": "finance.invoices",
    "columns": ["invoice_number", "supplier", "amount", "due_date", "status"],
    "filters": [{"column": "status", "op": "eq", "value": "open"}],
    "default_sort": ["-amount"],
    "page_size": 25,
    "chart_type": "bar",
    "chart_x": "supplier",
    "chart_y": "amount",
    "chart_aggregation": "sum",
    "chart_group_by": "",
    "chart_bucket": "",
    "allowed_groups": [],
    "created": "2026-01-12T09:30:00Z",
    "updated": "2026-03-02T14:05:11Z",
}


class DatasetColumnInfoSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(help_text="The name requests and report definitions use.")
    title = serializers.CharField()
    type = serializers.CharField(help_text="text, integer, decimal, date or boolean.")
    description = serializers.CharField()


class DatasetFreshnessSerializer(serializers.Serializer):  # type: ignore[type-arg]
    synced = serializers.BooleanField(help_text="False: no sync source, freshness is not tracked.")
    last_success_at = serializers.DateTimeField(allow_null=True)
    target_minutes = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField()
    job_name = serializers.CharField()


class DatasetLineageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source_system = serializers.CharField()
    sync_source = serializers.CharField(allow_null=True, help_text="The slug of the sync source that fills it.")
    reports = serializers.IntegerField(help_text="How many report definitions use the dataset.")


@extend_schema_serializer(
    examples=[
        OpenApiExample("A dataset", value=DATASET_EXAMPLE, response_only=True),
        OpenApiExample(
            "Change the steward",
            value={"steward_name": "Frank Fuchs", "steward_email": "frank@example.com", "reason": "Handover CHG-7"},
            request_only=True,
        ),
    ]
)
class DatasetSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A catalog entry: what the dataset is, who owns it, how fresh it is, and the columns you may receive."""

    url = serializers.HyperlinkedIdentityField(view_name="api:dataset-detail")
    owner_section_slug = serializers.SerializerMethodField(help_text="The owner section's slug, or null.")
    columns = serializers.SerializerMethodField(help_text="The columns you may receive, in the dataset's order.")
    freshness = serializers.SerializerMethodField()
    lineage = serializers.SerializerMethodField()
    reason = reason_field()

    class Meta:
        model = Dataset
        fields = (
            "id",
            "url",
            "key",
            "title",
            "description",
            "owner_section",
            "owner_section_slug",
            "steward_name",
            "steward_email",
            "source_system",
            "sensitivity",
            "freshness_target_minutes",
            "columns",
            "freshness",
            "lineage",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("key", "owner_section", "created", "updated")
        extra_kwargs = {"freshness_target_minutes": {"min_value": 1, "max_value": 525_600}}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_section_slug(self, dataset: Dataset) -> str | None:
        return dataset.owner_section.slug if dataset.owner_section is not None else None

    @extend_schema_field(DatasetColumnInfoSerializer(many=True))
    def get_columns(self, dataset: Dataset) -> list[dict[str, Any]]:
        request = self.context.get("request")
        try:
            spec = get_dataset(dataset.key)
        except UnknownDataset:
            return []
        shown = set(visible_columns(getattr(request, "user", None), dataset, spec))
        descriptions = dict(DatasetColumn.objects.filter(dataset=dataset).values_list("name", "description"))
        return [
            {"name": c.name, "title": c.title, "type": str(c.type), "description": descriptions.get(c.name, "")}
            for c in spec.columns
            if c.name in shown
        ]

    @extend_schema_field(DatasetFreshnessSerializer)
    def get_freshness(self, dataset: Dataset) -> dict[str, Any]:
        state = dataset_freshness(dataset)
        return {
            "synced": state.synced,
            "last_success_at": state.last_success_at.isoformat() if state.last_success_at else None,
            "target_minutes": state.target_minutes,
            "stale": state.stale,
            "job_name": state.job_name,
        }

    @extend_schema_field(DatasetLineageSerializer)
    def get_lineage(self, dataset: Dataset) -> dict[str, Any]:
        source = dataset.sync_source
        return {
            "source_system": dataset.source_system,
            "sync_source": source.slug if source is not None else None,
            "reports": dataset.reports.count(),
        }


class ReportSectionField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A section id (within a section-restricted token's section); null for a personal report. Whether the caller
    may put a report there is the view's question (403 unless they edit the section)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return restrict_to_token(request, Section.objects.all()) if request is not None else Section.objects.none()


class VisibleDatasetField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A dataset id among the datasets the caller may see: any other id "does not exist"."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return visible_datasets(request.user) if request is not None else Dataset.objects.none()


@extend_schema_serializer(
    examples=[
        OpenApiExample("A report", value=REPORT_EXAMPLE, response_only=True),
        OpenApiExample(
            "A section report",
            value={
                "section": 1,
                "title": "Disputed invoices",
                "slug": "disputed-invoices",
                "dataset": 1,
                "columns": ["invoice_number", "supplier", "amount", "status"],
                "filters": [{"column": "status", "op": "eq", "value": "disputed"}],
                "default_sort": ["-amount"],
                "reason": "Requested by AP team (REQ-311)",
            },
            request_only=True,
        ),
    ]
)
class ReportDefinitionSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A saved report over one dataset: shared in a section (`section` set) or personal (`section` null: yours)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:report-detail")
    section = ReportSectionField(
        allow_null=True, required=False, help_text="The section's id; null (or left out) for a personal report."
    )
    section_slug = serializers.SerializerMethodField(help_text="The section's slug; null for a personal report.")
    owner = serializers.SerializerMethodField(help_text="A personal report's owner (username); null otherwise.")
    dataset = VisibleDatasetField(help_text="The dataset's id.")
    dataset_key = serializers.CharField(source="dataset.key", read_only=True)
    allowed_groups = serializers.SlugRelatedField(
        slug_field="name",
        many=True,
        required=False,
        queryset=Group.objects.all(),
        help_text="Groups that may run a section report (names); empty: every visitor of the section.",
    )
    reason = reason_field()

    class Meta:
        model = ReportDefinition
        fields = (
            "id",
            "url",
            "section",
            "section_slug",
            "owner",
            "title",
            "slug",
            "description",
            "dataset",
            "dataset_key",
            "columns",
            "filters",
            "default_sort",
            "page_size",
            "chart_type",
            "chart_x",
            "chart_y",
            "chart_aggregation",
            "chart_group_by",
            "chart_bucket",
            "allowed_groups",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("created", "updated")
        # Uniqueness of slugs is checked by the model (full_clean in the service) and the database.
        validators: list[Any] = []

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_section_slug(self, report: ReportDefinition) -> str | None:
        return report.section.slug if report.section is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner(self, report: ReportDefinition) -> str | None:
        return report.owner.username if report.owner is not None else None


class ReportDataSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One page of a report's rows."""

    count = serializers.IntegerField(help_text="Rows matching the report's filters, `filter` and `search`.")
    total = serializers.IntegerField(help_text="Rows matching the report's filters and `filter`, before `search`.")
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.CharField(), help_text="The columns of each row, in order.")
    results = serializers.ListField(
        child=serializers.DictField(), help_text="The rows: column name → value (decimals as strings, ISO dates)."
    )
