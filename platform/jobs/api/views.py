"""Viewsets of the jobs API: registered jobs (and requests to run them now), their runs, data sources, and the
ingestion endpoint of push sources.

Who sees what is the job pages' rule (jobs.status): platform admins and auditors everything, a section's editors
their section's jobs, runs and sources; a section-restricted token narrows that to its section. Web instances never
run a job: POST /jobs/{name}/run/ records a JobRequest that the job `jobs.run-requested` picks up on a job server.
Every write goes through jobs.services (sources, requests) or jobs.ingest (pushed records).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import (
    api_editable_sections,
    api_readable_sections,
    is_section_restricted,
    may_write,
    restrict_to_token,
)
from api.schema import ProblemSerializer
from api.viewsets import ApiViewSetMixin, ReadOnlyApiViewSet, as_api_validation_error, change_reason
from jobs import services
from jobs.admin import CONNECTION_FIELDS
from jobs.ingest import IngestError, IngestResult, check_pushable, ingest
from jobs.models import JobRequest, JobRun, Outcome
from jobs.registry import JobSpec
from jobs.status import JobStatus, statuses
from jobs.sync import SuspiciousResult
from jobs.sync_models import SourceKind, SyncSource
from tenants.models import Section
from tenants.permissions import is_platform_admin, reads_everything, visitable_sections

from .parsers import IngestJSONParser
from .serializers import (
    MAX_LISTED_REJECTIONS,
    IngestResultSerializer,
    IngestSerializer,
    JobListSerializer,
    JobRequestSerializer,
    JobRunSerializer,
    JobSerializer,
    RunRequestSerializer,
    SyncSourceSerializer,
)

DEFAULT_REASON = "Changed through the API"
CONFLICT = OpenApiResponse(ProblemSerializer, description="The request conflicts with the source's state.")


class Conflict(exceptions.APIException):
    """409: the call is well-formed but cannot be carried out now (a problem document, like every error)."""

    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


# -----------------------------------------------------------------------------------------------------------------
# Who sees which section's jobs
# -----------------------------------------------------------------------------------------------------------------
def visible_owner_slugs(request: Request) -> set[str] | None:
    """The section slugs whose jobs, runs and sources this call may read; None: everything, the platform's too."""
    if reads_everything(request.user) and not is_section_restricted(request):
        return None
    return set(api_readable_sections(request).values_list("slug", flat=True))


def may_manage(request: Request, section_id: int | None) -> bool:
    """May this call change a section's (or, for None, the platform's) jobs and sources?"""
    if section_id is None:
        return may_write(request) and is_platform_admin(request.user) and not is_section_restricted(request)
    return api_editable_sections(request).filter(pk=section_id).exists()


def _absolute(request: Request, path: str) -> str:
    return request.build_absolute_uri(path)


# -----------------------------------------------------------------------------------------------------------------
# Jobs
# -----------------------------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="List jobs",
        description="The registered jobs you may see, with schedule, owner, last run, next run and data freshness: "
        "every job for platform admins and auditors, your sections' jobs for section editors (a section-restricted "
        "token: that section's only). Jobs are registry entries, not rows: all of them are on one page.",
        parameters=[
            OpenApiParameter(
                "section",
                str,
                description="Only the jobs of this section (its slug), or `platform` for the platform's.",
            )
        ],
        responses=JobListSerializer,
    ),
    retrieve=extend_schema(
        summary="Read a job",
        description="One job by name (e.g. `sync.ap-invoices`); 404 if there is none you may see.",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, description="The job's name.")],
        responses=JobSerializer,
    ),
)
class JobViewSet(ApiViewSetMixin, viewsets.ViewSet):
    """Registered jobs: read them, and ask for a run now."""

    serializer_class = JobSerializer  # for the schema generator (the views serialize by hand)
    lookup_field = "name"
    lookup_value_converter = "str"  # names have dots (sync.ap-invoices): a string, for this viewset only
    throttle_scope: str | None = None

    def _visible_specs(self) -> list[JobSpec]:
        from jobs.registry import all_jobs

        slugs = visible_owner_slugs(self.request)
        specs = all_jobs()
        if slugs is None:
            return specs
        return [spec for spec in specs if spec.section and spec.section in slugs]

    def _spec(self, name: str) -> JobSpec:
        spec = next((spec for spec in self._visible_specs() if spec.name == name), None)
        if spec is None:
            raise exceptions.NotFound(f"There is no job called “{name}” that you may see.")
        return spec

    def _body(self, job: JobStatus, pending: dict[str, int]) -> dict[str, Any]:
        spec, last = job.spec, job.last
        request = self.request
        return {
            "name": spec.name,
            "url": _absolute(request, reverse("api:job-detail", kwargs={"name": spec.name})),
            "description": spec.description,
            "schedule": spec.schedule,
            "section": spec.section or None,
            "owner": spec.owner,
            "timeout_seconds": spec.timeout,
            "max_attempts": spec.retry.attempts,
            "last_run": None
            if last is None
            else {
                "id": last.pk,
                "url": _absolute(request, reverse("api:job-run-detail", kwargs={"pk": last.pk})),
                "outcome": last.outcome,
                "started_at": last.started_at,
                "finished_at": last.finished_at,
                "duration_seconds": last.duration_seconds,
                "message": last.message,
            },
            "last_success_at": job.last_success.finished_at if job.last_success else None,
            "next_run": job.next_run,
            "failures_last_7_days": job.failures,
            "healthy": job.healthy,
            "freshness": None
            if job.freshness is None
            else {
                "last_success_at": job.freshness.last_success_at,
                "target_minutes": job.freshness.target_minutes,
                "stale": job.freshness.stale,
            },
            "pending_request": _absolute(request, reverse("api:job-request-detail", kwargs={"pk": pending[spec.name]}))
            if spec.name in pending
            else None,
            "runs_url": _absolute(request, reverse("api:job-run-list")) + f"?job={spec.name}",
        }

    def _bodies(self, specs: list[JobSpec]) -> list[dict[str, Any]]:
        names = [spec.name for spec in specs]
        pending = dict(JobRequest.objects.filter(pending__in=names).values_list("job", "pk"))
        return [self._body(job, pending) for job in statuses(specs)]

    def list(self, request: Request) -> Response:
        specs = self._visible_specs()
        owner = request.query_params.get("section")
        if owner:
            specs = [spec for spec in specs if spec.owner == owner]
        results = JobSerializer(self._bodies(specs), many=True).data
        return Response({"next": None, "previous": None, "results": results})

    def retrieve(self, request: Request, name: str) -> Response:
        return Response(JobSerializer(self._bodies([self._spec(name)])[0]).data)

    @extend_schema(
        summary="Request a run now",
        description="Platform admins, and the editors of the job's section, ask the job servers to run the job now. "
        "Web instances never run jobs: this records a run request (who, when, why) that the job "
        "`jobs.run-requested` picks up within about a minute, running the job under its normal lease. Answers 202 "
        "with the new request (its URL in Location); while a request for the job is still waiting, asking again "
        "answers 200 with the waiting one and records nothing (no pile-up). Follow the request's URL to see its run.",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, description="The job's name.")],
        request=RunRequestSerializer,
        responses={202: JobRequestSerializer, 200: JobRequestSerializer},
    )
    @action(detail=True, methods=["post"], url_path="run", url_name="run")
    def run(self, request: Request, name: str) -> Response:
        spec = self._spec(name)
        section = Section.objects.filter(slug=spec.section).first() if spec.section else None
        if (spec.section and section is None) or not may_manage(request, section.pk if section else None):
            raise exceptions.PermissionDenied(
                "Only platform admins, and the editors of the job's section, can request a run."
            )
        body = RunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.request_run(spec, actor=request.user, reason=body.validated_data["reason"])
        data = JobRequestSerializer(result.request, context={"request": request}).data
        code = status.HTTP_202_ACCEPTED if result.created else status.HTTP_200_OK
        return Response(data, status=code, headers={"Location": data["url"]})


# -----------------------------------------------------------------------------------------------------------------
# Runs and run requests
# -----------------------------------------------------------------------------------------------------------------
class JobRunFilter(filters.FilterSet):
    job = filters.CharFilter(label="Only this job's runs (its name, e.g. sync.ap-invoices or ingest.hr-headcount).")
    outcome = filters.ChoiceFilter(choices=Outcome.choices, label="Only runs with this outcome.")
    section = filters.CharFilter(field_name="section_slug", label="Only this section's runs (its slug).")
    started_after = filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte", label="Started at or after (ISO 8601)."
    )
    started_before = filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="lt", label="Started before (ISO 8601)."
    )

    class Meta:
        model = JobRun
        fields = ["job", "outcome", "section", "started_after", "started_before"]


def _owned(queryset: QuerySet[Any], request: Request) -> QuerySet[Any]:
    slugs = visible_owner_slugs(request)
    return queryset if slugs is None else queryset.filter(section_slug__in=slugs)


@extend_schema_view(
    list=extend_schema(
        summary="List job runs",
        description="Runs of the jobs you may see (pushes to push sources too, as job ingest.<slug>), newest first; "
        "filter by job, outcome, section and start time.",
    ),
    retrieve=extend_schema(summary="Read a job run", description="One run, with its counts, checks and error."),
)
class JobRunViewSet(ReadOnlyApiViewSet):
    """Job runs: what ran when, where, how it ended."""

    queryset = JobRun.objects.none()
    serializer_class = JobRunSerializer
    filterset_class = JobRunFilter
    ordering_fields = ["id", "started_at"]
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[JobRun]:
        return _owned(JobRun.objects.all(), self.request)


class JobRequestFilter(filters.FilterSet):
    job = filters.CharFilter(label="Only requests for this job (its name).")
    pending = filters.BooleanFilter(
        field_name="picked_up_at", lookup_expr="isnull", label="true: only waiting requests; false: picked up."
    )

    class Meta:
        model = JobRequest
        fields = ["job", "pending"]


@extend_schema_view(
    list=extend_schema(
        summary="List run requests",
        description="Requests to run a job now (who, when, why, and the run they made), for the jobs you may see.",
    ),
    retrieve=extend_schema(
        summary="Read a run request",
        description="One request: `pending` until a job server picks it up, then its run (follow `run`).",
    ),
)
class JobRequestViewSet(ReadOnlyApiViewSet):
    """Run requests: the audit of who asked for which run, and what came of it."""

    queryset = JobRequest.objects.none()
    serializer_class = JobRequestSerializer
    filterset_class = JobRequestFilter
    ordering_fields = ["id", "requested_at"]
    ordering = ("-id",)

    def get_queryset(self) -> QuerySet[JobRequest]:
        return _owned(JobRequest.objects.select_related("requested_by", "run"), self.request)


# -----------------------------------------------------------------------------------------------------------------
# Data sources and ingestion
# -----------------------------------------------------------------------------------------------------------------
class SyncSourceFilter(filters.FilterSet):
    slug = filters.CharFilter(label="The source with this slug.")
    kind = filters.ChoiceFilter(choices=SourceKind.choices, label="Only sources of this kind.")
    section = filters.CharFilter(field_name="section__slug", label="Only this section's sources (its slug).")
    enabled = filters.BooleanFilter(label="Only enabled (true) or disabled (false) sources.")

    class Meta:
        model = SyncSource
        fields = ["slug", "kind", "section", "enabled"]


@extend_schema_view(
    list=extend_schema(
        summary="List data sources",
        description="The data sources you may read: all for platform admins and auditors, your sections' for "
        "section editors. A source's credential variable is never answered (`has_credential` says if it has one).",
    ),
    retrieve=extend_schema(summary="Read a data source", description="One source; 404 if you may not read it."),
    create=extend_schema(
        summary="Create a data source",
        description="Platform admins create any source; a section's editors create push sources in their section "
        "(a fetched source's address and credential are platform decisions). Validated like the admin form; the "
        "reason is kept in the source's history.",
    ),
    update=extend_schema(
        summary="Replace a data source's settings",
        description="Platform admins, and the section's editors (not the slug, section, kind, address or "
        "credential: platform admins only).",
    ),
    partial_update=extend_schema(
        summary="Change some of a data source's settings",
        description="Platform admins, and the section's editors (not the slug, section, kind, address or "
        "credential: platform admins only).",
    ),
    destroy=extend_schema(
        summary="Delete a data source",
        description="Deletes the source with its records, changes and rejections (in batches). Platform admins; a "
        'section\'s editors their push sources. An optional JSON body `{"reason": "…"}` is kept in the history.',
    ),
)
class SyncSourceViewSet(
    ApiViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Data sources: fetched on a schedule, or pushed through POST /sources/{id}/records/."""

    queryset = SyncSource.objects.none()
    serializer_class = SyncSourceSerializer
    filterset_class = SyncSourceFilter
    ordering_fields = ["id", "name", "slug", "created"]
    ordering = ("name",)
    throttle_scope: str | None = None

    def get_queryset(self) -> QuerySet[SyncSource]:
        queryset = SyncSource.objects.select_related("section", "freshness")
        if self.action == "records":
            return self._pushable(queryset)
        slugs = visible_owner_slugs(self.request)
        return queryset if slugs is None else queryset.filter(section__slug__in=slugs)

    def _pushable(self, queryset: QuerySet[SyncSource]) -> QuerySet[SyncSource]:
        """For a push, the sources of the sections the caller may visit: a viewer finds the source (and is then
        refused, 403), another section's source is not found (404), as is any source outside a restricted token's
        section."""
        request = self.request
        if reads_everything(request.user) and not is_section_restricted(request):
            return queryset
        ids = [section.pk for section in visitable_sections(request.user)]
        sections = restrict_to_token(request, Section.objects.filter(pk__in=ids))
        return queryset.filter(section__in=sections)

    # Writes --------------------------------------------------------------------------------------------------------
    def _require_manage(self, section: Section | None, what: str) -> None:
        if not may_manage(self.request, section.pk if section is not None else None):
            where = f"the section “{section.slug}”" if section is not None else "the platform"
            raise exceptions.PermissionDenied(f"You cannot {what} data sources of {where}.")

    def _save(self, source: SyncSource, values: dict[str, Any], default_reason: str) -> SyncSource:
        for name, value in values.items():
            if name != "reason":
                setattr(source, name, value)
        try:
            return services.save_source(
                source, actor=self.request.user, reason=change_reason(self.request, default_reason)
            )
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None

    def perform_create(self, serializer: SyncSourceSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        section = data.get("section")
        self._require_manage(section, "create")
        if not is_platform_admin(self.request.user) and data.get("kind", SourceKind.REST) != SourceKind.PUSH:
            raise exceptions.PermissionDenied(
                "Section editors create push sources; a fetched source's address and credential are set by "
                "platform admins."
            )
        serializer.instance = self._save(SyncSource(), data, f"Created through the API: {data.get('slug')}")

    def perform_update(self, serializer: SyncSourceSerializer) -> None:  # type: ignore[override]
        source = serializer.instance
        data = dict(serializer.validated_data)
        self._require_manage(source.section, "change")
        if not is_platform_admin(self.request.user):
            changed = [name for name in CONNECTION_FIELDS if name in data and data[name] != getattr(source, name)]
            if changed:
                raise exceptions.PermissionDenied(f"Only platform admins can change {', '.join(changed)}.")
        elif "section" in data and data["section"] != source.section:
            self._require_manage(data["section"], "move")
        self._save(source, data, DEFAULT_REASON)

    def perform_destroy(self, instance: SyncSource) -> None:
        self._require_manage(instance.section, "delete")
        if not is_platform_admin(self.request.user) and instance.kind != SourceKind.PUSH:
            raise exceptions.PermissionDenied("Only platform admins can delete a fetched data source.")
        services.delete_source(
            instance, actor=self.request.user, reason=change_reason(self.request, "Deleted through the API")
        )

    # Ingestion -----------------------------------------------------------------------------------------------------
    @extend_schema(
        summary="Push records",
        description="Push records to a push source (kind `push`), instead of it being fetched. Each record is "
        "validated as a sync validates it (field map, key, required fields, duplicate keys); rejected records are "
        "answered with their index, key and reason (and kept, for the source's owners) while the valid ones are "
        "written, in transactions of at most 1,000 rows, each created or changed row with an audit entry. With "
        "`complete: true` the push is the whole dataset: rows not in it are deleted or marked deleted, as the "
        "source's deletion policy says. The call is recorded as a run of job `ingest.<slug>` and updates the "
        "source's freshness. 200 when every record was accepted, 207 when some were rejected. Platform admins and "
        "the section's editors, with a write token; rate-limited by the `ingest` scope. At most "
        "API_INGEST_MAX_RECORDS (default 100,000) records and API_INGEST_MAX_BODY_BYTES (default 64 MiB) "
        "per call. 409 for a source that is not a push source, "
        "is disabled or is being written by another push, and for a complete push with nothing usable while rows "
        "are held; nothing is written then.",
        request=IngestSerializer,
        responses={
            200: IngestResultSerializer,
            207: OpenApiResponse(IngestResultSerializer, description="Some records were rejected; the rest kept."),
            409: CONFLICT,
            413: OpenApiResponse(ProblemSerializer, description="The body is larger than API_INGEST_MAX_BODY_BYTES."),
        },
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The source's id.")],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="records",
        url_name="records",
        throttle_scope="ingest",
        parser_classes=[IngestJSONParser],
    )
    def records(self, request: Request, pk: int | None = None) -> Response:
        source = self.get_object()
        if not may_manage(request, source.section_id):
            raise exceptions.PermissionDenied("Only platform admins and the section's editors can push records.")
        try:
            check_pushable(source)
        except IngestError as exc:
            raise Conflict(str(exc)) from None
        body = IngestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            result = ingest(
                source,
                data["records"],
                complete=data["complete"],
                actor=request.user,
                reason=data["reason"] or "Pushed through the API",
            )
        except (IngestError, SuspiciousResult) as exc:
            raise Conflict(str(exc)) from None
        answer = IngestResultSerializer(self._result(result)).data
        return Response(answer, status=207 if result.rejected else status.HTTP_200_OK)

    def _result(self, result: IngestResult) -> dict[str, Any]:
        return {
            "received": result.received,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "removed": result.removed,
            "batches": result.batches,
            "complete": result.complete,
            "run": result.run.pk,
            "run_url": _absolute(self.request, reverse("api:job-run-detail", kwargs={"pk": result.run.pk})),
            "rejections": [
                {"index": item.index, "key": item.key, "reason": item.reason}
                for item in result.rejections[:MAX_LISTED_REJECTIONS]
            ],
            "rejections_truncated": len(result.rejections) > MAX_LISTED_REJECTIONS,
        }
