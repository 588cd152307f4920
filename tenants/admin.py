"""Admin for sections, section roles and pages.

Editors of a section see and change only that section's rows and can pick no other section in any form;
auditors see everything read-only; platform admins do everything, including onboarding a section in one step.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from core.admin import ConfigAdmin, user_reads_everything

from . import services
from .forms import OnboardSectionForm
from .models import Page, Section, SectionRole
from .permissions import editable_sections, readable_sections


class SectionScopedAdmin(ConfigAdmin):
    """Base admin for section-scoped rows: every list, form and permission is limited to the user's sections."""

    list_filter: Any = ("section",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = self.model.objects.all_sections().select_related("section")
        if user_reads_everything(request.user):
            return queryset
        return queryset.filter(section__in=editable_sections(request.user))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "section":
            kwargs["queryset"] = editable_sections(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _edits(self, request: HttpRequest, obj: Any) -> bool:
        sections = editable_sections(request.user)
        if obj is None:
            return sections.exists()
        return sections.filter(pk=obj.section_id).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user) or editable_sections(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user) or self._edits(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._edits(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._edits(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._edits(request, obj)

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_in_section(obj, actor=actor, reason=reason)

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.delete_in_section(obj, actor=actor, reason=reason)


@admin.register(Section)
class SectionAdmin(ConfigAdmin):
    list_display = ("name", "slug", "status", "navigation_layout", "onboarded_at")
    list_filter = ("status", "navigation_layout")
    search_fields = ("name", "slug", "description")
    filter_horizontal = ("owners",)
    readonly_fields = ("config_version", "onboarded_by", "onboarded_at")
    change_list_template = "admin/tenants/section/change_list.html"
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "status", "hostname")}),
        ("People", {"fields": ("owners", "primary_contact", "backup_contact", "support_email", "escalation_channel")}),
        (
            "Look and access",
            {
                "fields": (
                    "default_theme",
                    "default_colour_mode",
                    "lock_colour_mode",
                    "navigation_layout",
                    "require_mfa",
                )
            },
        ),
        ("Record", {"fields": ("config_version", "onboarded_by", "onboarded_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Section]:
        return readable_sections(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Where a section lives and whether it is live are platform decisions, not the team's.
            fields += ["slug", "status", "hostname"]
        return fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return readable_sections(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        sections = readable_sections(request.user)
        return sections.filter(pk=obj.pk).exists() if obj is not None else sections.exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        sections = editable_sections(request.user)
        return sections.filter(pk=obj.pk).exists() if obj is not None else sections.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_section(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    # Onboarding --------------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        onboard = path("onboard/", self.admin_site.admin_view(self.onboard_view), name="tenants_section_onboard")
        return [onboard, *super().get_urls()]

    def onboard_view(self, request: HttpRequest) -> HttpResponse:
        """One form that onboards a team: section, roles, starter home page and menu, and who did it."""
        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = OnboardSectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                result = services.onboard_section(
                    slug=data["slug"],
                    name=data["name"],
                    description=data["description"],
                    editors_group=data["editors_group"],
                    viewers_group=data["viewers_group"] or None,
                    actor=request.user,
                    reason=data["reason"] or None,
                )
            except services.OnboardingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, result.summary)
                return HttpResponseRedirect(reverse("admin:tenants_section_change", args=[result.section.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Onboard a section",
            "known_groups": form.known_groups(),
        }
        return render(request, "admin/tenants/section/onboard.html", context)


@admin.register(SectionRole)
class SectionRoleAdmin(SectionScopedAdmin):
    list_display = ("section", "group", "role")
    list_filter = ("section", "role")
    search_fields = ("group__name", "section__name")
    fields = ("section", "group", "role")

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_section_role(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.revoke_section_role(obj, actor=actor, reason=reason)  # type: ignore[arg-type]


@admin.register(Page)
class PageAdmin(SectionScopedAdmin):
    list_display = ("title", "section", "slug", "published", "updated")
    list_filter = ("section", "published")
    search_fields = ("title", "body", "slug")
    fields = ("section", "title", "slug", "body", "published")
    prepopulated_fields = {"slug": ("title",)}
