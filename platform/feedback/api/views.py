"""The bug-report endpoint: pages (session + CSRF) and scripts (tokens) create reports the same way; readers list
what they may see; section editors triage. Another section's report is a 404, never the report."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.authentication import token_of
from api.permissions import api_editable_sections, may_write
from api.schema import ProblemSerializer
from api.viewsets import ApiViewSetMixin, as_api_validation_error, change_reason
from feedback import services
from feedback.models import BugReport, Severity, Status
from tenants.lookups import section_by_slug
from tenants.models import Section
from tenants.permissions import can_visit_section, reads_everything

from .serializers import CREATE_EXAMPLE, BugReportCreateSerializer, BugReportSerializer, BugReportTriageSerializer


class BugReportFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices, label="Only reports in this status.")
    severity = filters.ChoiceFilter(choices=Severity.choices, label="Only reports of this severity.")
    section = filters.CharFilter(field_name="section__slug", label="Only this section's reports (its slug).")
    mine = filters.BooleanFilter(method="filter_mine", label="Only the reports you sent.")

    class Meta:
        model = BugReport
        fields = ["status", "severity", "section"]

    def filter_mine(self, queryset: QuerySet[BugReport], name: str, value: bool) -> QuerySet[BugReport]:
        return queryset.filter(reporter=self.request.user) if value else queryset


def _token_sections(request: Request) -> QuerySet[Section] | None:
    """The sections a section-restricted token confines the call to (None: no such restriction)."""
    token = token_of(request)
    if token is not None and token.section_id is not None:
        return Section.objects.filter(pk=token.section_id)
    return None


@extend_schema_view(
    list=extend_schema(
        summary="List bug reports",
        description="The reports you sent, and those of the sections you edit; platform admins and auditors see "
        "every report (auditors read-only). A section-restricted token sees only its section's reports.",
    ),
    retrieve=extend_schema(
        summary="Read a bug report",
        description="One report with its context and comments; 404 if it is not yours to read.",
    ),
    create=extend_schema(
        summary="Report a problem",
        description="Multipart form data (or JSON without a screenshot). The screenshot must be a PNG or JPEG "
        "(checked by decoding it, whatever its name) of at most FEEDBACK_SCREENSHOT_MAX_BYTES (5 MB) and "
        "FEEDBACK_SCREENSHOT_MAX_DIMENSION pixels a side. A section you may not visit is a 404 and nothing is "
        "stored; invalid input is a 400 with `invalid_params`. The section's support contacts are e-mailed.",
        request={"multipart/form-data": BugReportCreateSerializer, "application/json": BugReportCreateSerializer},
        responses={
            201: BugReportSerializer,
            404: OpenApiResponse(ProblemSerializer, description="No such section, or one you may not visit."),
        },
        examples=[
            OpenApiExample(
                "Report a problem with a screenshot",
                value=CREATE_EXAMPLE | {"screenshot": "(binary PNG or JPEG file part)"},
                request_only=True,
                media_type="multipart/form-data",
            ),
            OpenApiExample(
                "Report a problem without a screenshot",
                value=CREATE_EXAMPLE | {"context": {"viewport": {"width": 1280, "height": 800}}},
                request_only=True,
                media_type="application/json",
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Triage a bug report",
        description="The section's editors and platform admins change the status (new → triaged → in progress → "
        "resolved; resolved reports can be reopened to triaged) and the assignee (a section editor). Every change "
        "is kept in the report's history with your name and the reason.",
        request=BugReportTriageSerializer,
        responses={200: BugReportSerializer},
        examples=[
            OpenApiExample(
                "Start work on a report",
                value={"status": "in_progress", "assignee": "fiona", "reason": "Taken in the weekly triage"},
                request_only=True,
            )
        ],
    ),
)
class BugReportViewSet(
    ApiViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Bug reports sent from the pages (the "Report a problem" button) or by scripts."""

    queryset = BugReport.objects.none()
    serializer_class = BugReportSerializer
    filterset_class = BugReportFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Reporting a problem is the caller's own business, so auditors may report too (ApiAccess's `personal`);
    # triage still refuses them (`may_write` in partial_update).
    personal = True
    ordering_fields = ["id", "created", "severity", "status"]
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[BugReport]:
        restricted = _token_sections(self.request)
        if restricted is not None:
            # A section token reads that section's reports its user may read, and nothing else.
            return (
                services.visible_reports(self.request.user)
                .filter(section__in=restricted)
                .prefetch_related("comments__author")
            )
        return services.visible_reports(self.request.user).prefetch_related("comments__author")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = BugReportCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        section = self._reported_section(request, data["section"])
        upload = data.get("screenshot")
        try:
            report = services.submit_report(
                reporter=request.user,
                section=section,
                description=data["description"],
                expected=data["expected"],
                severity=data["severity"],
                page_url=data["url"],
                request_id=data["request_id"],
                screenshot=_read_upload(upload),
                context=services.build_context(
                    data["context"],
                    user=request.user,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                    section=section,
                ),
            )
        except ValidationError as exc:
            raise as_api_validation_error(_on_screenshot(exc)) from None
        body = BugReportSerializer(report, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _reported_section(self, request: Request, slug: str) -> Section | None:
        restricted = _token_sections(request)
        if not slug:
            if restricted is not None:
                raise PermissionDenied("This token is restricted to one section: name it in `section`.")
            return None
        section = section_by_slug(slug)
        # A section the caller may not visit "does not exist": the answer never confirms that it does.
        if section is None or not can_visit_section(request.user, section):
            raise NotFound(f"No section “{slug}”.")
        if section.is_archived and not reads_everything(request.user):
            raise NotFound(f"No section “{slug}”.")
        if restricted is not None and not restricted.filter(pk=section.pk).exists():
            raise NotFound(f"No section “{slug}”.")
        return section

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        if not may_write(request) or not self._triages(request, report):
            raise PermissionDenied("Only the section's editors and platform admins triage its reports.")
        serializer = BugReportTriageSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            services.update_report(
                report,
                actor=request.user,
                reason=change_reason(request, "Triaged through the API"),
                status=data.get("status"),
                assignee=data.get("assignee"),
                change_assignee="assignee" in data,
            )
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        return Response(BugReportSerializer(report, context=self.get_serializer_context()).data)

    def _triages(self, request: Request, report: BugReport) -> bool:
        if not services.can_triage(request.user, report):
            return False
        restricted = _token_sections(request)
        if restricted is None:
            return True
        return report.section_id is not None and api_editable_sections(request).filter(pk=report.section_id).exists()


def _read_upload(upload: Any) -> bytes | None:
    """The uploaded file's bytes, reading at most one byte past the limit (the size check needs no more)."""
    if upload is None:
        return None
    limit = services.screenshot_limit() + 1
    upload.seek(0)
    return bytes(upload.read(limit))


def _on_screenshot(exc: ValidationError) -> ValidationError:
    """A screenshot check's error (which names no field) on the `screenshot` field."""
    if hasattr(exc, "error_dict"):
        return exc
    return ValidationError({"screenshot": exc.messages})
