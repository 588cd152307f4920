"""Admin for menu items: section editors manage their own section's menu."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tenants.admin import SectionScopedAdmin
from tenants.models import Page
from tenants.permissions import editable_sections

from .models import MenuItem


@admin.register(MenuItem)
class MenuItemAdmin(SectionScopedAdmin):
    list_display = ("label", "section", "parent", "order", "href")
    list_filter = ("section",)
    search_fields = ("label", "url")
    fields = ("section", "parent", "label", "page", "url", "order", "groups")
    filter_horizontal = ("groups",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        sections = editable_sections(request.user)
        if db_field.name == "page":
            kwargs["queryset"] = Page.objects.all_sections().filter(section__in=sections)
        if db_field.name == "parent":
            kwargs["queryset"] = MenuItem.objects.all_sections().filter(section__in=sections)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
