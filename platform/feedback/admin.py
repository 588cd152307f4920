"""Admin for bug reports: triage lists filtered by status, section and severity, with history. Reports are only
created from the pages and the API; status and assignee changes go through feedback.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ChangeReasonForm, user_reads_everything
from tenants.admin import SectionScopedAdmin
from tenants.permissions import is_platform_admin

from . import services
from .models import BugReport, Comment


class BugReportForm(ChangeReasonForm):
    class Meta:
        model = BugReport
        fields = ("status", "assignee")

    def clean_status(self) -> str:
        wanted = self.cleaned_data["status"]
        if self.instance.pk:
            current = BugReport.objects.all_sections().values_list("status", flat=True).get(pk=self.instance.pk)
            try:
                services.check_transition(current, wanted)
            except ValidationError as exc:
                raise forms.ValidationError(exc.message_dict["status"]) from None
        return str(wanted)

    def clean_assignee(self) -> Any:
        assignee = self.cleaned_data.get("assignee")
        if assignee is not None and not services.possible_assignees(self.instance).filter(pk=assignee.pk).exists():
            raise forms.ValidationError("The assignee must be an editor of the report's section.")
        return assignee


class CommentInline(admin.TabularInline):
    model = Comment
    fields = ("author", "body", "created")
    readonly_fields = ("author", "body", "created")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # comments are written on the report's page, through the service


@admin.register(BugReport)
class BugReportAdmin(SectionScopedAdmin):
    form = BugReportForm
    list_display = ("id", "short_description", "section", "severity", "status", "reporter", "assignee", "created")
    list_filter = ("status", "section", "severity")
    search_fields = ("description", "expected", "page_url", "request_id", "reporter__username")
    list_select_related = ("section", "reporter", "assignee")
    readonly_fields = (
        "section",
        "reporter",
        "description",
        "expected",
        "severity",
        "page_url",
        "request_id",
        "screenshot",
        "context",
        "created",
    )
    fieldsets = (
        ("Triage", {"fields": ("status", "assignee")}),
        (
            "Report",
            {
                "fields": (
                    "section",
                    "reporter",
                    "severity",
                    "description",
                    "expected",
                    "page_url",
                    "request_id",
                    "screenshot",
                    "context",
                    "created",
                )
            },
        ),
    )
    inlines = [CommentInline]

    @admin.display(description="Problem")
    def short_description(self, obj: BugReport) -> str:
        return obj.description[:80]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = services.all_reports()
        if user_reads_everything(request.user):
            return queryset
        return services.triage_reports(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _edits(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return super()._edits(request, obj) or is_platform_admin(request.user)
        return services.can_triage(request.user, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # reports come from the pages and the API, with their context

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_platform_admin(request.user)

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        report: BugReport = obj  # type: ignore[assignment]
        services.update_report(report, actor=actor, reason=reason)
