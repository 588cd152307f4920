"""Admin for menus: section editors build their own section's menu, order it with up/down buttons, map groups,
preview what a group would see, and move a whole menu between environments with import/export."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin

from reports.models import ReportDefinition
from tenants.admin import SectionScopedAdmin
from tenants.models import Page
from tenants.permissions import editable_sections, readable_sections

from . import services
from .menus import menu_for_groups
from .models import MenuItem, MenuItemGroup
from .resources import MenuItemResource


class MenuItemGroupInline(admin.TabularInline):
    model = MenuItemGroup
    fields = ("group",)
    extra = 1
    verbose_name = "group that sees this item"
    verbose_name_plural = "Groups that see this item (none: every viewer of the section)"

    def get_queryset(self, request: HttpRequest) -> Any:
        return MenuItemGroup.objects.all_sections().select_related("group")


@admin.register(MenuItem)
class MenuItemAdmin(ImportExportMixin, SectionScopedAdmin):
    list_display = ("label", "section", "parent", "placement", "order", "target", "move")
    list_filter = ("section", "placement")
    search_fields = ("label", "url", "route_name")
    fields = (
        "section",
        "parent",
        "label",
        "icon",
        "placement",
        "page",
        "route_name",
        "report",
        "url",
        "required_permission",
    )
    inlines = [MenuItemGroupInline]
    resource_classes = [MenuItemResource]
    change_list_template = "admin/navigation/menuitem/change_list.html"

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_export_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def has_import_permission(self, request: HttpRequest) -> bool:
        return editable_sections(request.user).exists()

    def has_export_permission(self, request: HttpRequest) -> bool:
        return readable_sections(request.user).exists()

    @admin.display(description="Target")
    def target(self, obj: MenuItem) -> str:
        return obj.href or "—"

    @admin.display(description="Order")
    def move(self, obj: MenuItem) -> str:
        return format_html(
            '<form method="post" action="{}" class="atrium-inline-form">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button name="direction" value="up" title="Move up" aria-label="Move {} up">▲</button>'
            '<button name="direction" value="down" title="Move down" aria-label="Move {} down">▼</button></form>',
            reverse("admin:navigation_menuitem_move", args=[obj.pk]),
            self._csrf_token,
            obj.label,
            obj.label,
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        from django.middleware.csrf import get_token

        self._csrf_token = get_token(request)
        return super().changelist_view(request, extra_context)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        sections = editable_sections(request.user)
        if db_field.name == "page":
            kwargs["queryset"] = Page.objects.all_sections().filter(section__in=sections)
        if db_field.name == "report":
            kwargs["queryset"] = ReportDefinition.objects.filter(section__in=sections)
        if db_field.name == "parent":
            kwargs["queryset"] = MenuItem.objects.all_sections().filter(section__in=sections)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        self._reason = reason
        services.save_menu_item(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.delete_menu_item(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Group links go through the services too, so each one has its own history row and the version moves.
        item: MenuItem = form.instance
        reason = getattr(self, "_reason", "Changed in the admin")
        links = formset.save(commit=False)
        for link in formset.deleted_objects:
            services.delete_item_group(link, actor=request.user, reason=reason)
        for link in links:
            link.item, link.section = item, item.section
            services.save_item_group(link, actor=request.user, reason=reason)

    # Ordering and preview -------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:item_id>/move/", self.admin_site.admin_view(self.move_view), name="navigation_menuitem_move"),
            path("preview/", self.admin_site.admin_view(self.preview_view), name="navigation_menuitem_preview"),
            *super().get_urls(),
        ]

    def move_view(self, request: HttpRequest, item_id: int) -> HttpResponse:
        item = self.get_queryset(request).filter(pk=item_id).first()
        if item is None or not self.has_change_permission(request, item):
            raise Http404("No such menu item.")
        if request.method != "POST":
            return HttpResponse(status=405)
        direction = request.POST.get("direction", "")
        if direction not in ("up", "down"):
            messages.error(request, "Choose up or down.")
        else:
            services.move_menu_item(item, direction, actor=request.user)
        changelist = reverse("admin:navigation_menuitem_changelist")
        return HttpResponseRedirect(f"{changelist}?section__id__exact={item.section_id}")

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """“View as group”: the menu the members of a chosen group would see in a section the user may read."""
        sections = readable_sections(request.user)
        if not sections.exists():
            raise Http404("No section to preview.")
        section = _pick(sections, request.GET.get("section")) or sections.first()
        assert section is not None
        groups = Group.objects.order_by("name")
        group = _pick(groups, request.GET.get("group"))
        menu = menu_for_groups(section, {group.pk} if group else set())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "View the menu as a group",
            "sections": sections,
            "section": section,
            "groups": groups,
            "group": group,
            "menu": menu,
        }
        return render(request, "admin/navigation/menuitem/preview.html", context)


def _pick(queryset: Any, raw: str | None) -> Any:
    if not raw or not raw.isdigit():
        return None
    return queryset.filter(pk=int(raw)).first()


@admin.register(MenuItemGroup)
class MenuItemGroupAdmin(SectionScopedAdmin):
    """The group mapping on its own: which groups see which items, with history."""

    list_display = ("item", "group", "section")
    list_filter = ("section", "group")
    search_fields = ("item__label", "group__name")
    fields = ("section", "item", "group")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "item":
            kwargs["queryset"] = MenuItem.objects.all_sections().filter(section__in=editable_sections(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.save_item_group(obj, actor=actor, reason=reason)  # type: ignore[arg-type]

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        services.delete_item_group(obj, actor=actor, reason=reason)  # type: ignore[arg-type]
