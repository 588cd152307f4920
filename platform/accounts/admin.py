"""Admin for users: the directory fills most fields, so they are shown but rarely edited here."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from .models import SecurityEvent, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "department", "source", "is_active")
    list_filter = ("source", "is_active", "is_superuser", "groups")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Directory", {"fields": ("source", "department", "title")}),
    )


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """Read-only list of security events for platform admins and auditors (the audit pages build on it)."""

    list_display = ("created", "event_type", "success", "username", "method", "ip_address", "section_slug", "reason")
    list_filter = ("event_type", "success", "method", "section_slug")
    search_fields = ("username", "ip_address", "reason", "request_id", "path")
    date_hierarchy = "created"
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]

    def _reads(self, request: HttpRequest) -> bool:
        return bool(
            request.user.is_active and (request.user.is_superuser or getattr(request.user, "is_auditor", False))
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._reads(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._reads(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
