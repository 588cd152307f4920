"""The admin site: open to platform admins, auditors, and the editors of any section."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core.admin import user_reads_everything
from tenants.permissions import edits_any_section


class AtriumAdminSite(admin.AdminSite):
    """Django's admin, with Atrium's idea of who may enter it."""

    site_header = "Atrium administration"
    site_title = "Atrium admin"
    index_title = "Configuration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated):
            return False
        if user.is_staff or user_reads_everything(user):
            return True
        return edits_any_section(user)
