"""Serializers of the jobs API: registered jobs (registry entries, not rows), their runs, run requests, data sources
and pushed records. Fields are listed explicitly; a source's credential variable is accepted but never answered."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.permissions import api_readable_sections
from api.viewsets import reason_field
from jobs.models import JobRequest, JobRun, Outcome
from jobs.sync_models import SyncSource
from tenants.models import Section

# The most records one call may push; larger datasets are pushed in several calls (the last with complete=true).
DEFAULT_INGEST_MAX_RECORDS = 100_000
# The most rejected records listed in one answer (all of them are stored as RejectedRecord).
MAX_LISTED_REJECTIONS = 1_000


def ingest_max_records() -> int:
    return int(getattr(settings, "API_INGEST_MAX_RECORDS", DEFAULT_INGEST_MAX_RECORDS))


RUN_EXAMPLE = {
    "id": 812,
    "url": "https://portal.example.com/api/v1/job-runs/812/",
    "job": "sync.ap-invoices",
    "section": "finance",
    "started_at": "2026-03-02T14:00:00Z",
    "finished_at": "2026-03-02T14:00:07Z",
    "duration_seconds": 6.8,
    "outcome": "success",
    "attempts": 1,
    "rows_read": 1250,
    "rows_written": 14,
    "rows_rejected": 2,
    "message": "1250 read, 12 created, 2 changed, 0 marked deleted, 2 rejected; 1236 rows held; checks passed",
    "error": "",
    "host": "jobs-1",
    "checks": {"row_count": {"ok": True, "held": 1236, "expected": 1236}},
    "detail": {"source": "ap-invoices", "created": 12, "changed": 2},
}

REQUEST_EXAMPLE = {
    "id": 31,
    "url": "https://portal.example.com/api/v1/job-requests/31/",
    "job": "sync.ap-invoices",
    "job_url": "https://portal.example.com/api/v1/jobs/sync.ap-invoices/",
    "section": "finance",
    "requested_by": "fiona",
    "requested_at": "2026-03-02T14:03:10Z",
    "reason": "Supplier file corrected (INC-4521)",
    "status": "pending",
    "picked_up_at": None,
    "run": None,
    "message": "",
}


class RunSummarySerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    url = serializers.URLField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    message = serializers.CharField()


class FreshnessSerializer(serializers.Serializer):  # type: ignore[type-arg]
    last_success_at = serializers.DateTimeField(allow_null=True, help_text="The last successful sync or push.")
    target_minutes = serializers.IntegerField(help_text="Stale when the last success is older than this.")
    stale = serializers.BooleanField()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A sync job",
            value={
                "name": "sync.ap-invoices",
                "url": "https://portal.example.com/api/v1/jobs/sync.ap-invoices/",
                "description": "Sync AP platform invoices",
                "schedule": "*/15 * * * *",
                "section": "finance",
                "owner": "finance",
                "timeout_seconds": 300,
                "max_attempts": 3,
                "last_run": {
                    "id": 812,
                    "url": "https://portal.example.com/api/v1/job-runs/812/",
                    "outcome": "success",
                    "started_at": "2026-03-02T14:00:00Z",
                    "finished_at": "2026-03-02T14:00:07Z",
                    "duration_seconds": 6.8,
                    "message": "1250 read, 12 created, 2 changed, 0 marked deleted, 2 rejected; 1236 rows held",
                },
                "last_success_at": "2026-03-02T14:00:07Z",
                "next_run": "2026-03-02T14:15:00Z",
                "failures_last_7_days": 0,
                "healthy": True,
                "freshness": {"last_success_at": "2026-03-02T14:00:00Z", "target_minutes": 60, "stale": False},
                "pending_request": None,
                "runs_url": "https://portal.example.com/api/v1/job-runs/?job=sync.ap-invoices",
            },
            response_only=True,
        )
    ]
)
class JobSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A registered job (declared in code, or one per enabled data source), with its latest state."""

    name = serializers.CharField(help_text="The job's name, e.g. sync.ap-invoices; its id in URLs.")
    url = serializers.URLField()
    description = serializers.CharField()
    schedule = serializers.CharField(help_text="Cron schedule on the job servers.")
    section = serializers.CharField(allow_null=True, help_text="The owning section's slug; null: the platform.")
    owner = serializers.CharField(help_text="The owning section's slug, or “platform”.")
    timeout_seconds = serializers.IntegerField()
    max_attempts = serializers.IntegerField(help_text="Attempts in all on a transient failure.")
    last_run = RunSummarySerializer(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)
    next_run = serializers.DateTimeField(help_text="When cron starts it next.")
    failures_last_7_days = serializers.IntegerField()
    healthy = serializers.BooleanField(help_text="The last run succeeded (or runs) and its data is not stale.")
    freshness = FreshnessSerializer(allow_null=True, help_text="For data-source jobs: how fresh their data is.")
    pending_request = serializers.URLField(allow_null=True, help_text="A run request waiting for a job server.")
    runs_url = serializers.URLField(help_text="The job's runs.")


@extend_schema_serializer(
    many=False,  # one object holding the list: the schema must not wrap it in another array
    examples=[
        OpenApiExample(
            "A section editor's jobs",
            value={
                "next": None,
                "previous": None,
                "results": [
                    {
                        "name": "sync.ap-invoices",
                        "url": "https://portal.example.com/api/v1/jobs/sync.ap-invoices/",
                        "description": "Sync AP platform invoices",
                        "schedule": "*/15 * * * *",
                        "section": "finance",
                        "owner": "finance",
                        "timeout_seconds": 300,
                        "max_attempts": 3,
                        "last_run": None,
                        "last_success_at": None,
                        "next_run": "2026-03-02T14:15:00Z",
                        "failures_last_7_days": 0,
                        "healthy": True,
                        "freshness": {"last_success_at": None, "target_minutes": 60, "stale": True},
                        "pending_request": "https://portal.example.com/api/v1/job-requests/31/",
                        "runs_url": "https://portal.example.com/api/v1/job-runs/?job=sync.ap-invoices",
                    }
                ],
            },
            response_only=True,
        )
    ],
)
class JobListSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """All visible jobs in one page (jobs are few: registry entries, not rows)."""

    next = serializers.URLField(allow_null=True, help_text="Always null: every job is on this page.")
    previous = serializers.URLField(allow_null=True, help_text="Always null.")
    results = JobSerializer(many=True)


@extend_schema_serializer(examples=[OpenApiExample("A run", value=RUN_EXAMPLE, response_only=True)])
class JobRunSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One run of one job (or one push to a push source, job ingest.<slug>): when, where, outcome and counts."""

    url = serializers.HyperlinkedIdentityField(view_name="api:job-run-detail")
    section = serializers.CharField(source="section_slug", help_text="The owning section's slug; empty: platform.")

    class Meta:
        model = JobRun
        fields = (
            "id",
            "url",
            "job",
            "section",
            "started_at",
            "finished_at",
            "duration_seconds",
            "outcome",
            "attempts",
            "rows_read",
            "rows_written",
            "rows_rejected",
            "message",
            "error",
            "host",
            "checks",
            "detail",
        )
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A waiting request", value=REQUEST_EXAMPLE, response_only=True, status_codes=["200", "201", "202"]
        )
    ]
)
class JobRequestSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A request to run a job now: who asked, when and why; picked up by a job server within a minute or so."""

    url = serializers.HyperlinkedIdentityField(view_name="api:job-request-detail")
    job_url = serializers.SerializerMethodField()
    section = serializers.CharField(source="section_slug")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField(help_text="pending, or picked_up (see run and message).")
    run = serializers.HyperlinkedRelatedField(view_name="api:job-run-detail", read_only=True, allow_null=True)

    class Meta:
        model = JobRequest
        fields = (
            "id",
            "url",
            "job",
            "job_url",
            "section",
            "requested_by",
            "requested_at",
            "reason",
            "status",
            "picked_up_at",
            "run",
            "message",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_job_url(self, obj: JobRequest) -> str:
        from django.urls import reverse

        path = reverse("api:job-detail", kwargs={"name": obj.job})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "picked_up"]))
    def get_status(self, obj: JobRequest) -> str:
        return "pending" if obj.is_pending else "picked_up"


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Run the invoice sync now",
            value={"reason": "Supplier file corrected (INC-4521)"},
            request_only=True,
        )
    ]
)
class RunRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Why the job should run now: kept with the request, for the auditors."""

    reason = serializers.CharField(max_length=200, help_text="Why the job must run now (kept with the request).")


class EditableSectionField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A section id among the sections this call may read (the view checks that it may change it)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return api_readable_sections(request) if request is not None else Section.objects.none()


SOURCE_EXAMPLE = {
    "id": 4,
    "url": "https://portal.example.com/api/v1/sources/4/",
    "slug": "hr-headcount",
    "name": "HR headcount (pushed by the HRIS)",
    "description": "Positions and headcount, pushed nightly by the HR system.",
    "section": 2,
    "section_slug": "hr",
    "kind": "push",
    "code_name": "",
    "base_url": "",
    "auth_type": "none",
    "has_credential": False,
    "auth_header": "X-API-Key",
    "paging": "none",
    "page_size": 500,
    "page_param": "",
    "size_param": "",
    "next_path": "next",
    "records_path": "",
    "total_path": "",
    "checksum_path": "",
    "key_field": "position_id",
    "field_map": {},
    "required_fields": ["position_id", "department"],
    "deletion_policy": "mark",
    "schedule": "*/15 * * * *",
    "timeout_seconds": 600,
    "max_attempts": 3,
    "request_timeout_seconds": 30.0,
    "freshness_target_minutes": 1440,
    "enabled": True,
    "job_name": "ingest.hr-headcount",
    "records_url": "https://portal.example.com/api/v1/sources/4/records/",
    "freshness": {"last_success_at": "2026-03-02T02:00:11Z", "target_minutes": 1440, "stale": False},
    "created": "2026-01-20T10:00:00Z",
    "updated": "2026-02-11T08:12:40Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A push source", value=SOURCE_EXAMPLE, response_only=True),
        OpenApiExample(
            "Create a push source",
            value={
                "slug": "hr-headcount",
                "name": "HR headcount (pushed by the HRIS)",
                "section": 2,
                "kind": "push",
                "key_field": "position_id",
                "required_fields": ["position_id", "department"],
                "deletion_policy": "mark",
                "freshness_target_minutes": 1440,
                "reason": "Headcount dashboard (CHG-2201)",
            },
            request_only=True,
        ),
    ]
)
class SyncSourceSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A data source: fetched on a schedule (kinds rest and code) or pushed through the API (kind push).

    `credential_setting` (the NAME of the variable holding the secret) is accepted on writes and never answered;
    `has_credential` says whether one is set.
    """

    url = serializers.HyperlinkedIdentityField(view_name="api:sync-source-detail")
    section = EditableSectionField(
        allow_null=True, required=False, help_text="The owning section's id; null: platform."
    )
    section_slug = serializers.SerializerMethodField()
    credential_setting = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=64, help_text="Write-only: never answered."
    )
    has_credential = serializers.SerializerMethodField()
    job_name = serializers.CharField(read_only=True, help_text="sync.<slug>, or ingest.<slug> for a push source.")
    records_url = serializers.SerializerMethodField(help_text="Where to push records (push sources only).")
    freshness = serializers.SerializerMethodField()
    reason = reason_field()

    class Meta:
        model = SyncSource
        fields = (
            "id",
            "url",
            "slug",
            "name",
            "description",
            "section",
            "section_slug",
            "kind",
            "code_name",
            "base_url",
            "auth_type",
            "credential_setting",
            "has_credential",
            "auth_header",
            "paging",
            "page_size",
            "page_param",
            "size_param",
            "next_path",
            "records_path",
            "total_path",
            "checksum_path",
            "key_field",
            "field_map",
            "required_fields",
            "deletion_policy",
            "schedule",
            "timeout_seconds",
            "max_attempts",
            "request_timeout_seconds",
            "freshness_target_minutes",
            "enabled",
            "job_name",
            "records_url",
            "freshness",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("created", "updated")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_section_slug(self, obj: SyncSource) -> str | None:
        return obj.section.slug if obj.section is not None else None

    @extend_schema_field(serializers.BooleanField())
    def get_has_credential(self, obj: SyncSource) -> bool:
        return bool(obj.credential_setting)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_records_url(self, obj: SyncSource) -> str | None:
        if not obj.is_push or not obj.pk:
            return None
        from django.urls import reverse

        path = reverse("api:sync-source-records", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(FreshnessSerializer(allow_null=True))
    def get_freshness(self, obj: SyncSource) -> dict[str, Any] | None:
        state = getattr(obj, "freshness", None) if obj.pk else None
        if state is None:
            return None
        return {
            "last_success_at": serializers.DateTimeField().to_representation(state.last_success_at)
            if state.last_success_at
            else None,
            "target_minutes": obj.freshness_target_minutes,
            "stale": state.is_stale,
        }


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "object", "additionalProperties": True},
        "maxItems": DEFAULT_INGEST_MAX_RECORDS,
        "description": "The records, as JSON objects (mapped through the source's field map, if it has one).",
    }
)
class RecordsField(serializers.JSONField):
    """A JSON list of records. Checked as a whole (a list, not too long): each record is validated by the sync
    code, which reports a bad one instead of failing the call; DRF validating 100,000 children would be slow."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, list):
            raise serializers.ValidationError(f"Expected a JSON list of records, not {type(data).__name__}.")
        limit = ingest_max_records()
        if len(data) > limit:
            raise serializers.ValidationError(
                f"{len(data)} records in one call; at most {limit}. Push them in several calls (the last one with "
                "complete=true if the vanished-record policy should apply).",
                code="too_many_records",
            )
        return data


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Push two records",
            value={
                "records": [
                    {"position_id": "P-1001", "department": "Payroll", "fte": 1.0},
                    {"position_id": "P-1002", "department": "Recruiting", "fte": 0.5},
                ],
                "complete": False,
                "reason": "Nightly HRIS export",
            },
            request_only=True,
        )
    ]
)
class IngestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Records pushed to a push source."""

    records = RecordsField(help_text="The records (at most API_INGEST_MAX_RECORDS, default 100,000, per call).")
    complete = serializers.BooleanField(
        default=False,
        help_text="True: these are ALL the source's records; the ones held but not pushed are deleted or marked "
        "deleted, as the source's deletion policy says.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Why (kept on the run)."
    )


class RejectionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    index = serializers.IntegerField(help_text="The record's position in `records`, from 0.")
    key = serializers.CharField(help_text="The record's key, when it has one.")
    reason = serializers.CharField(help_text="Why it was refused, e.g. “missing required field: department”.")


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Some records rejected",
            value={
                "received": 3,
                "created": 1,
                "updated": 1,
                "unchanged": 0,
                "rejected": 1,
                "removed": 0,
                "batches": 1,
                "complete": False,
                "run": 915,
                "run_url": "https://portal.example.com/api/v1/job-runs/915/",
                "rejections": [{"index": 2, "key": "P-1003", "reason": "missing required field: department"}],
                "rejections_truncated": False,
            },
            response_only=True,
            status_codes=["200", "207"],
        )
    ]
)
class IngestResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What a push did: 200 when every record was accepted, 207 when some were rejected (the rest are kept)."""

    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    removed = serializers.IntegerField(help_text="Rows deleted or marked deleted (complete=true only).")
    batches = serializers.IntegerField(help_text="Write transactions of at most 1,000 rows each.")
    complete = serializers.BooleanField()
    run = serializers.IntegerField(help_text="The JobRun (job ingest.<slug>) recording this call.")
    run_url = serializers.URLField()
    rejections = RejectionSerializer(many=True, help_text=f"The first {MAX_LISTED_REJECTIONS} rejected records.")
    rejections_truncated = serializers.BooleanField(help_text="More were rejected than listed (all are stored).")
