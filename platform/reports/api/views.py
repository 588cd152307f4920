"""Viewsets of catalog entries and report definitions, and a report's data.

Reads follow reports.access (the pages' rules): a dataset or report the caller may not see is a 404, and a column
without clearance never appears. A section-restricted token sees only its section's datasets and reports (no
personal reports, no other section's). Every write goes through reports.services (validation by the model's
clean, history with the acting user and reason, Galera-safe transaction).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import token_of
from api.errors import InvalidQueryParameter
from api.permissions import api_editable_sections, may_write
from api.viewsets import ApiViewSetMixin, as_api_validation_error, change_reason
from reports import services
from reports.access import report_or_404, visible_datasets, visible_reports
from reports.models import Dataset, ReportDefinition, Sensitivity
from reports.query import MAX_FILTERS, MAX_OFFSET, MAX_PAGE_LENGTH, QueryError, TableRequest
from reports.views import ReportQuery
from tenants.permissions import is_platform_admin

from .serializers import DatasetSerializer, ReportDataSerializer, ReportDefinitionSerializer

DEFAULT_REASON = "Changed through the API"


def _token_section_id(request: Request) -> int | None:
    token = token_of(request)
    return token.section_id if token is not None else None


class DatasetFilter(filters.FilterSet):
    key = filters.CharFilter(label="The dataset registered under this key, e.g. finance.invoices.")
    owner_section = filters.NumberFilter(field_name="owner_section_id", label="Only this section's datasets (id).")
    sensitivity = filters.ChoiceFilter(choices=Sensitivity.choices, label="Only datasets of this sensitivity.")

    class Meta:
        model = Dataset
        fields = ["key", "owner_section", "sensitivity"]


@extend_schema_view(
    list=extend_schema(
        summary="List datasets",
        description="The catalog entries you may see (a dataset with allowed groups: their members, platform admins "
        "and auditors), each with the columns you may receive, its freshness, owner and lineage. A "
        "section-restricted token sees only its section's datasets.",
    ),
    retrieve=extend_schema(summary="Read a dataset", description="One catalog entry; 404 if you may not see it."),
    update=extend_schema(
        summary="Replace a dataset's metadata",
        description="Editors of the owner section and platform admins. Only the description fields change "
        "(title, description, steward, source system, sensitivity, freshness target); the key and owner do not. "
        "The `reason` is kept in the history.",
    ),
    partial_update=extend_schema(
        summary="Change some of a dataset's metadata",
        description="Editors of the owner section and platform admins; the `reason` is kept in the history.",
    ),
)
class DatasetViewSet(
    ApiViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """The data catalog: datasets you may see; their owners change the metadata."""

    queryset = Dataset.objects.none()
    serializer_class = DatasetSerializer
    filterset_class = DatasetFilter
    ordering_fields = ["id", "key", "title", "created", "updated"]
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[Dataset]:
        datasets = visible_datasets(self.request.user).select_related(
            "owner_section", "sync_source", "sync_source__freshness"
        )
        section_id = _token_section_id(self.request)
        if section_id is not None:
            datasets = datasets.filter(owner_section_id=section_id)
        return datasets

    def perform_update(self, serializer: DatasetSerializer) -> None:  # type: ignore[override]
        dataset: Dataset = serializer.instance  # type: ignore[assignment]
        editable = dataset.owner_section_id is not None and (
            api_editable_sections(self.request).filter(pk=dataset.owner_section_id).exists()
        )
        if not (editable or (is_platform_admin(self.request.user) and may_write(self.request))):
            raise PermissionDenied(f"You cannot change the dataset “{dataset.key}”.")
        for name, value in serializer.validated_data.items():
            if name != "reason":
                setattr(dataset, name, value)
        try:
            services.save_dataset(dataset, actor=self.request.user, reason=change_reason(self.request, DEFAULT_REASON))
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None


class ReportFilter(filters.FilterSet):
    section = filters.NumberFilter(field_name="section_id", label="Only this section's reports (its id).")
    section_slug = filters.CharFilter(field_name="section__slug", label="Only this section's reports (its slug).")
    dataset = filters.NumberFilter(field_name="dataset_id", label="Only reports on this dataset (its id).")
    personal = filters.BooleanFilter(
        field_name="section", lookup_expr="isnull", label="Only your personal reports (true) or only shared (false)."
    )

    class Meta:
        model = ReportDefinition
        fields = ["section", "section_slug", "dataset", "personal"]


DATA_PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description=f"Rows per page, 1 to {MAX_PAGE_LENGTH} (default: the report's page size).",
    ),
    OpenApiParameter("offset", OpenApiTypes.INT, description=f"Rows to skip, 0 to {MAX_OFFSET} (default 0)."),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        description="Comma-separated column names, `-` for descending, e.g. `-amount,supplier` (default: the "
        "report's sort).",
        examples=[OpenApiExample("Largest first", value="-amount,supplier")],
    ),
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description="Rows where any visible text column contains this, or a number/date column equals it.",
    ),
    OpenApiParameter(
        "columns",
        OpenApiTypes.STR,
        description="Comma-separated subset of the report's columns you may see (default: all of them).",
    ),
    OpenApiParameter(
        "filter",
        OpenApiTypes.STR,
        many=True,
        description="`column:op:value`, repeatable (all must match, on top of the report's own filters). "
        "Operators: eq ne contains startswith in isnull (text); eq ne lt lte gt gte in between isnull "
        "(numbers, dates); eq ne isnull (booleans). `in` and `between` take comma-separated values, dates are "
        f"YYYY-MM-DD, at most {MAX_FILTERS} filters.",
        examples=[OpenApiExample("Large open invoices", value="amount:gte:1000")],
    ),
]


def _whole_parameter(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidQueryParameter(name, f"must be a whole number from {low} to {high}")
    return int(raw)


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def table_request(request: Request, query: ReportQuery) -> TableRequest:
    """The data endpoint's query parameters → a TableRequest over the caller's columns, or a QueryError."""
    params = request.query_params
    limit = _whole_parameter(request, "limit", min(query.report.page_size, MAX_PAGE_LENGTH), 1, MAX_PAGE_LENGTH)
    offset = _whole_parameter(request, "offset", 0, 0, MAX_OFFSET)
    columns = query.columns
    if params.get("columns"):
        columns = _names(params["columns"])
        for index, name in enumerate(columns):
            if name not in query.columns:
                raise QueryError(
                    f"{name[:60]!r} is not one of this report's columns: {', '.join(query.columns)}",
                    f"columns[{index}]",
                )
        if len(set(columns)) != len(columns):
            raise QueryError("a column is listed twice", "columns")
    order = query.order
    if params.get("ordering"):
        order = []
        for index, sort in enumerate(_names(params["ordering"])):
            spec = query.engine.column(sort.removeprefix("-"), f"ordering[{index}]")
            order.append((spec.name, sort.startswith("-")))
    raw_filters = params.getlist("filter")
    if len(raw_filters) > MAX_FILTERS:
        raise QueryError(f"at most {MAX_FILTERS} filters", "filter")
    extra = []
    for index, raw in enumerate(raw_filters):
        name, _, rest = raw.partition(":")
        op, sep, value = rest.partition(":")
        item: dict[str, Any] = {"column": name, "op": op or "eq"}
        if sep or op != "isnull":
            item["value"] = value
        extra.append(query.engine.parse_filter(item, f"filter[{index}]"))
    search = params.get("search", "")
    return TableRequest(
        columns=columns,
        filters=[*query.filters, *extra],
        search=search,
        order=order,
        start=offset,
        length=limit,
    )


@extend_schema_view(
    list=extend_schema(
        summary="List reports",
        description="The reports you may run: your personal reports, and the section reports of the sections you "
        "may visit (narrowed to their groups) on datasets you may see. A section-restricted token sees only "
        "that section's reports.",
    ),
    retrieve=extend_schema(summary="Read a report", description="One report definition; 404 if you may not run it."),
    create=extend_schema(
        summary="Create a report",
        description="A section report (`section` set: its editors and platform admins) or a personal report "
        "(`section` null: owned by you). Validated against the dataset as on the admin pages (columns, filters, "
        "sort and chart must fit the dataset's columns and types): 400 with the fields at fault.",
    ),
    update=extend_schema(
        summary="Replace a report",
        description="Section reports: the section's editors; personal reports: their owner. The section cannot change.",
    ),
    partial_update=extend_schema(
        summary="Change some of a report",
        description="Section reports: the section's editors; personal reports: their owner.",
    ),
    destroy=extend_schema(
        summary="Delete a report",
        description='Section editors or the owner; an optional JSON body `{"reason": "…"}` is recorded.',
    ),
)
class ReportDefinitionViewSet(ApiViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Report definitions: read those you may run, change those of your sections and your own."""

    queryset = ReportDefinition.objects.none()
    serializer_class = ReportDefinitionSerializer
    filterset_class = ReportFilter
    ordering_fields = ["id", "title", "slug", "created", "updated"]
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[ReportDefinition]:
        reports = visible_reports(self.request.user).prefetch_related("allowed_groups")
        section_id = _token_section_id(self.request)
        if section_id is not None:
            reports = reports.filter(section_id=section_id)
        return reports

    def _require_writer(self, report: ReportDefinition) -> None:
        if report.section_id is None:
            if report.owner_id != self.request.user.pk or not may_write(self.request):
                raise PermissionDenied("Only its owner can change a personal report.")
            if _token_section_id(self.request) is not None:
                raise PermissionDenied("This token is restricted to one section; personal reports are outside it.")
            return
        if not api_editable_sections(self.request).filter(pk=report.section_id).exists():
            raise PermissionDenied("You cannot change the reports of this section.")

    def perform_create(self, serializer: ReportDefinitionSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        groups = data.pop("allowed_groups", None)
        data.pop("reason", None)
        report = ReportDefinition(**data)
        if report.section is None:
            report.owner = self.request.user
        self._require_writer(report)
        self._save(serializer, report, groups, "Created through the API")

    def perform_update(self, serializer: ReportDefinitionSerializer) -> None:  # type: ignore[override]
        report: ReportDefinition = serializer.instance  # type: ignore[assignment]
        self._require_writer(report)
        data = dict(serializer.validated_data)
        if "section" in data and (data["section"].pk if data["section"] else None) != report.section_id:
            raise as_api_validation_error(ValidationError({"section": "A report cannot move to another section."}))
        groups = data.pop("allowed_groups", None)
        data.pop("reason", None)
        for name, value in data.items():
            setattr(report, name, value)
        self._save(serializer, report, groups, DEFAULT_REASON)

    def _save(self, serializer: Any, report: ReportDefinition, groups: Any, default_reason: str) -> None:
        try:
            services.save_report(
                report,
                actor=self.request.user,
                reason=change_reason(self.request, default_reason),
                allowed_groups=groups,
            )
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        serializer.instance = ReportDefinition.objects.prefetch_related("allowed_groups").get(pk=report.pk)

    def perform_destroy(self, instance: ReportDefinition) -> None:
        self._require_writer(instance)
        services.delete_report(
            instance, actor=self.request.user, reason=change_reason(self.request, "Deleted through the API")
        )

    @extend_schema(
        summary="Read a report's rows",
        description="One page of the report's rows, as the report page's table shows them: the report's own "
        "filters always apply, only the columns you are cleared for appear, and `ordering`, `search` and "
        "`filter` use the same engine. A report you may not run is a 404; an unknown column, an operator that "
        "does not fit the column's type, an unparsable value or an out-of-range `limit`/`offset` is a 400 "
        "problem naming the parameter.",
        parameters=DATA_PARAMETERS,
        responses={200: ReportDataSerializer},
        examples=[
            OpenApiExample(
                "A page of invoices",
                value={
                    "count": 412,
                    "total": 1530,
                    "limit": 2,
                    "offset": 0,
                    "columns": ["invoice_number", "supplier", "amount"],
                    "results": [
                        {"invoice_number": "INV-0000042", "supplier": "Globex Consulting", "amount": "48210.00"},
                        {"invoice_number": "INV-0000311", "supplier": "Acme Office Supplies", "amount": "39120.55"},
                    ],
                },
                response_only=True,
            )
        ],
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="data", filter_backends=[], pagination_class=None)
    def data(self, request: Request, pk: int | None = None) -> Response:
        report = report_or_404(request.user, int(pk or 0))
        section_id = _token_section_id(request)
        if section_id is not None and report.section_id != section_id:
            raise NotFound("No such report.")
        try:
            query = ReportQuery(request.user, report)
            table = table_request(request, query)
            page = query.engine.page(table)
        except QueryError as exc:
            raise InvalidQueryParameter(exc.field or "query", exc.message) from None
        return Response(
            {
                "count": page.filtered,
                "total": page.total,
                "limit": table.length,
                "offset": table.start,
                "columns": list(table.columns),
                "results": page.rows,
            }
        )
