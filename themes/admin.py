"""Admin for themes: platform admins manage them; everyone in the admin may view them."""

from django.contrib import admin

from core.admin import PlatformConfigAdmin

from .models import Theme


@admin.register(Theme)
class ThemeAdmin(PlatformConfigAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
