"""Admin for themes: platform admins manage them; auditors and editors may view them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models

from core.admin import PlatformConfigAdmin

from . import services
from .models import Theme


@admin.register(Theme)
class ThemeAdmin(PlatformConfigAdmin):
    list_display = ("name", "slug", "primary", "primary_dark", "package", "is_default")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "is_default", "package")}),
        ("Light mode", {"fields": ("primary", "secondary", "logo_light")}),
        ("Dark mode", {"fields": ("primary_dark", "secondary_dark", "logo_dark")}),
    )

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_theme(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.delete_theme(obj, actor=actor, reason=reason)  # type: ignore[arg-type]
