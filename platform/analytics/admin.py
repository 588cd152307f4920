"""Admin for analytics: the raw page views, read-only, for platform admins and auditors (the dashboards are the
place to read them; this is for looking one up). Nothing is added or changed here: views come from the pages,
aggregates from the job, opt-outs from the privacy page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tenants.permissions import reads_everything

from .models import PageView


@admin.register(PageView)
class PageViewAdmin(admin.ModelAdmin):
    list_display = ("started", "path", "section", "user", "status", "response_ms", "duration_ms")
    list_filter = ("section", "status")
    search_fields = ("path", "route_name", "pseudonym")
    list_select_related = ("section", "user")
    # No COUNT(*) over millions of rows on every list page.
    show_full_result_count = False
    readonly_fields = tuple(field.name for field in PageView._meta.fields)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return reads_everything(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return reads_everything(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
