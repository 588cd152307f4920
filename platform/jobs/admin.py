"""Admin for the jobs app: data sources (a configuration table) and read-only views of runs, leases and sync data.

Who may do what with a data source:

- platform admins add, change and delete any source;
- a section's editors see their section's sources and change how they are read, mapped, scheduled and kept
  fresh, but not where the data comes from or which credential it is sent (address, authentication, credential
  variable, kind): those decide what a job server connects to and which secret leaves it, so they are platform
  decisions, like a section's host name;
- auditors read everything; nobody else sees the sources at all.

Platform-owned sources (no section) are for platform admins and auditors only. Runs, leases, synced records,
changes, rejections and freshness are written by the jobs, never in the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.admin import ChangeReasonForm, ConfigAdmin, user_reads_everything
from tenants.permissions import editable_sections, is_platform_admin

from . import services
from .models import JobLease, JobRequest, JobRun
from .sync_models import RejectedRecord, SourceFreshness, SyncChange, SyncedRecord, SyncSource

# Where the data comes from and which secret goes with it: platform admins only (see the module docstring).
CONNECTION_FIELDS = (
    "slug",
    "section",
    "kind",
    "code_name",
    "base_url",
    "auth_type",
    "credential_setting",
    "auth_header",
)


def _editable_section_ids(request: HttpRequest) -> set[int]:
    memo = getattr(request, "_jobs_editable_sections", None)
    if memo is None:
        memo = set(editable_sections(request.user).values_list("pk", flat=True))
        request._jobs_editable_sections = memo  # type: ignore[attr-defined]
    return memo


class SyncSourceForm(ChangeReasonForm):
    """The source form; a model-level problem with a field shown read-only becomes a form-wide error."""

    def add_error(self, field: str | None, error: Any) -> None:
        # SyncSource.clean() checks every field, but an editor's form lacks the connection fields; Django would
        # crash adding an error to a field the form does not have, so such errors are shown above the form.
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name in [n for n in error.error_dict if n != NON_FIELD_ERRORS and n not in self.fields]:
                label = str(getattr(SyncSource._meta.get_field(name), "verbose_name", name))
                label = label[:1].upper() + label[1:]
                messages = [f"{label}: {m}" for e in error.error_dict.pop(name) for m in e.messages]
                error.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(ValidationError(m) for m in messages)
        super().add_error(field, error)


@admin.register(SyncSource)
class SyncSourceAdmin(ConfigAdmin):
    form = SyncSourceForm
    list_display = ("name", "slug", "section", "kind", "paging", "schedule", "enabled", "freshness_state")
    list_filter = ("enabled", "kind", "section")
    search_fields = ("name", "slug", "description", "base_url")
    list_select_related = ("section", "freshness")
    readonly_fields = ("job", "freshness_state")
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "section", "enabled", "job", "freshness_state")}),
        ("Source", {"fields": ("kind", "code_name", "base_url", "auth_type", "credential_setting", "auth_header")}),
        (
            "Pages",
            {
                "fields": (
                    "paging",
                    "page_size",
                    "page_param",
                    "size_param",
                    "next_path",
                    "records_path",
                    "total_path",
                    "checksum_path",
                )
            },
        ),
        ("Records", {"fields": ("key_field", "field_map", "required_fields", "deletion_policy")}),
        (
            "Schedule and freshness",
            {
                "fields": (
                    "schedule",
                    "timeout_seconds",
                    "max_attempts",
                    "request_timeout_seconds",
                    "freshness_target_minutes",
                )
            },
        ),
    )

    @admin.display(description="Job")
    def job(self, obj: SyncSource) -> str:
        return obj.job_name if obj.pk else "—"

    @admin.display(description="Freshness")
    def freshness_state(self, obj: SyncSource) -> str:
        state = getattr(obj, "freshness", None) if obj.pk else None
        if state is None or state.last_success_at is None:
            return "never synced"
        label = "stale" if state.is_stale else "fresh"
        return f"{label} (last success {timezone.localtime(state.last_success_at):%Y-%m-%d %H:%M})"

    # Scope ---------------------------------------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncSource]:
        queryset = SyncSource.objects.select_related("section", "freshness")
        if user_reads_everything(request.user):
            return queryset
        return queryset.filter(section__in=_editable_section_ids(request))

    def _edits(self, request: HttpRequest, obj: SyncSource | None) -> bool:
        if is_platform_admin(request.user):
            return True
        if obj is None:
            return bool(_editable_section_ids(request))
        return obj.section_id is not None and obj.section_id in _editable_section_ids(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user) or bool(_editable_section_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user) or self._edits(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._edits(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not is_platform_admin(request.user):
            fields += [name for name in CONNECTION_FIELDS if name not in fields]
        return fields

    # Write path ----------------------------------------------------------------------------------------------------
    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_source(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.delete_source(obj, actor=actor, reason=reason)  # type: ignore[arg-type]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the jobs write: listed and opened read-only, scoped to the user's sections."""

    section_path = "source__section"  # how a row reaches its owning section

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if user_reads_everything(request.user):
            return queryset
        return queryset.filter(**{f"{self.section_path}__in": _editable_section_ids(request)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user) or bool(_editable_section_ids(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if user_reads_everything(request.user):
            return True
        if obj is None:
            return bool(_editable_section_ids(request))
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SyncedRecord)
class SyncedRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "source", "updated_at", "deleted_at")
    list_filter = ("source", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("key",)
    list_select_related = ("source",)
    date_hierarchy = "updated_at"


@admin.register(SyncChange)
class SyncChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "source", "key", "action", "run")
    list_filter = ("action", "source")
    search_fields = ("key",)
    list_select_related = ("source", "run")
    date_hierarchy = "at"


@admin.register(RejectedRecord)
class RejectedRecordAdmin(ReadOnlyAdmin):
    list_display = ("at", "source", "key", "reason", "run")
    list_filter = ("source",)
    search_fields = ("key", "reason")
    list_select_related = ("source", "run")
    date_hierarchy = "at"


@admin.register(SourceFreshness)
class SourceFreshnessAdmin(ReadOnlyAdmin):
    list_display = ("source", "last_success_at", "last_attempt_at", "last_row_count", "stale", "stale_alerted_at")
    list_select_related = ("source",)

    @admin.display(boolean=True, description="Stale")
    def stale(self, obj: SourceFreshness) -> bool:
        return obj.is_stale


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = (
        "job",
        "started_at",
        "outcome",
        "duration_seconds",
        "attempts",
        "rows_read",
        "rows_written",
        "rows_rejected",
        "host",
        "message",
    )
    list_filter = ("outcome", "job", "section_slug")
    search_fields = ("job", "message", "host")
    date_hierarchy = "started_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = JobRun.objects.all()
        if user_reads_everything(request.user):
            return queryset
        slugs = editable_sections(request.user).values_list("slug", flat=True)
        return queryset.filter(section_slug__in=list(slugs)).exclude(section_slug="")


@admin.register(JobLease)
class JobLeaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "host", "holder", "acquired_at", "expires_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Leases say which server runs what: operational detail for platform readers only.
        return JobLease.objects.all() if user_reads_everything(request.user) else JobLease.objects.none()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user)


@admin.register(JobRequest)
class JobRequestAdmin(ReadOnlyAdmin):
    """Requests to run a job now (made through the API): who asked, when, why, and the run they made."""

    list_display = ("job", "requested_at", "requested_by", "reason", "picked_up_at", "run", "message")
    list_filter = ("job", "section_slug", ("picked_up_at", admin.EmptyFieldListFilter))
    search_fields = ("job", "reason", "requested_by__username")
    list_select_related = ("requested_by", "run")
    date_hierarchy = "requested_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = JobRequest.objects.all()
        if user_reads_everything(request.user):
            return queryset
        slugs = editable_sections(request.user).values_list("slug", flat=True)
        return queryset.filter(section_slug__in=list(slugs)).exclude(section_slug="")
