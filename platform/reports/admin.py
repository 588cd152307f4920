"""Admin for the data catalog (datasets, their columns and clearance) and report definitions, with history.

Datasets and columns are platform configuration (platform admins change them, auditors read them); reports are
section configuration: a section's editors change their section's reports, anyone their own personal reports.
Every save goes through reports.services with the reason typed in the form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from core.admin import ConfigAdmin, user_reads_everything
from tenants.permissions import editable_sections, is_platform_admin

from . import services
from .models import Dataset, DatasetColumn, ReportDefinition


@admin.register(Dataset)
class DatasetAdmin(ConfigAdmin):
    list_display = ("title", "key", "owner_section", "sync_source", "sensitivity")
    list_filter = ("sensitivity", "owner_section")
    search_fields = ("title", "key", "description", "source_system")
    filter_horizontal = ("allowed_groups",)
    fieldsets = (
        (None, {"fields": ("key", "title", "description", "sensitivity")}),
        ("Ownership", {"fields": ("owner_section", "steward_name", "steward_email")}),
        ("Lineage and freshness", {"fields": ("source_system", "sync_source", "freshness_target_minutes")}),
        ("Access", {"fields": ("allowed_groups",)}),
    )

    def save_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.save_dataset(obj, actor=actor, reason=reason)

    def delete_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.delete_dataset(obj, actor=actor, reason=reason)


@admin.register(DatasetColumn)
class DatasetColumnAdmin(ConfigAdmin):
    list_display = ("name", "dataset", "cleared_groups")
    list_filter = ("dataset",)
    search_fields = ("name", "description", "dataset__key")
    filter_horizontal = ("clearance_groups",)
    fields = ("dataset", "name", "description", "clearance_groups")

    @admin.display(description="Clearance")
    def cleared_groups(self, obj: DatasetColumn) -> str:
        return ", ".join(g.name for g in obj.clearance_groups.all()) or "—"

    def save_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.save_column(obj, actor=actor, reason=reason)

    def delete_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.delete_column(obj, actor=actor, reason=reason)


@admin.register(ReportDefinition)
class ReportDefinitionAdmin(ConfigAdmin):
    list_display = ("title", "section", "owner", "dataset", "chart_type")
    list_filter = ("section", "dataset")
    search_fields = ("title", "slug", "description")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("allowed_groups",)
    fieldsets = (
        (None, {"fields": ("section", "owner", "title", "slug", "description", "dataset")}),
        ("Table", {"fields": ("columns", "filters", "default_sort", "page_size")}),
        (
            "Chart",
            {"fields": ("chart_type", "chart_x", "chart_y", "chart_aggregation", "chart_group_by", "chart_bucket")},
        ),
        ("Access", {"fields": ("allowed_groups",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = ReportDefinition.objects.select_related("section", "dataset", "owner")
        if user_reads_everything(request.user):
            return queryset
        return queryset.filter(Q(section__in=editable_sections(request.user)) | Q(owner=request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "section":
            kwargs["queryset"] = editable_sections(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _edits(self, request: HttpRequest, obj: Any) -> bool:
        if is_platform_admin(request.user):
            return True
        if obj is None:
            return request.user.is_authenticated
        if obj.section_id is None:
            return bool(obj.owner_id == request.user.pk)
        return editable_sections(request.user).filter(pk=obj.section_id).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user) or editable_sections(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user) or self._edits(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_platform_admin(request.user) or editable_sections(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._edits(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._edits(request, obj)

    def save_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.save_report(obj, actor=actor, reason=reason)

    def delete_service(self, obj: Any, *, actor: Any, reason: str) -> None:
        services.delete_report(obj, actor=actor, reason=reason)
