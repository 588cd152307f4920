"""Admin for alert rules (platform admins edit them, with a reason and history; auditors read) and alerts (read-only).

Alerts are acknowledged on the alerts page (/audit/alerts/), which records the acknowledgement as a security
event; the admin only lists them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import PlatformConfigAdmin, user_reads_everything

from .models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(PlatformConfigAdmin):
    list_display = ("name", "kind", "threshold", "window_minutes", "severity", "enabled")
    list_filter = ("enabled", "kind", "severity")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "description", "kind", "severity", "enabled")}),
        ("Thresholds", {"fields": ("threshold", "window_minutes")}),
    )


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "rule", "subject", "event_count", "summary", "acknowledged_by", "acknowledged_at")
    list_filter = ("rule", ("acknowledged_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "summary")
    date_hierarchy = "raised_at"
    list_select_related = ("rule", "acknowledged_by")
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
