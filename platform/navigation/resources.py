"""Import and export of a section's menu (django-import-export), by natural keys so ids never leave the database.

A row names its section by slug, its parent by label path ("Reports / Monthly"), its page by slug and its groups
by name. Imported rows are saved through the navigation services, so every import is validated, recorded in the
history with who and why, and limited to the sections the importing user edits.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from import_export import fields, resources

from tenants.models import Page, Section
from tenants.permissions import editable_sections

from . import services
from .models import MenuItem

PATH_SEPARATOR = " / "


def label_path(item: MenuItem | None) -> str:
    labels = []
    while item is not None:
        labels.append(item.label)
        item = item.parent
    return PATH_SEPARATOR.join(reversed(labels))


class MenuItemResource(resources.ModelResource):
    section = fields.Field(attribute="section", column_name="section")
    parent = fields.Field(attribute="parent", column_name="parent")
    page = fields.Field(attribute="page", column_name="page")
    report = fields.Field(attribute="report", column_name="report")
    groups = fields.Field(column_name="groups")

    class Meta:
        model = MenuItem
        fields = (
            "section", "parent", "label", "icon", "placement", "order",
            "page", "report", "route_name", "url", "required_permission", "groups",
        )  # fmt: skip
        export_order = fields
        import_id_fields = ("section", "parent", "label")
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user

    def get_queryset(self) -> Any:
        queryset = MenuItem.objects.all_sections().select_related("section", "parent", "page", "report")
        if self.user is not None and not self.user.is_superuser and not getattr(self.user, "is_auditor", False):
            queryset = queryset.filter(section__in=editable_sections(self.user))
        return queryset

    # Export ---------------------------------------------------------------------------------------------------------
    def dehydrate_section(self, item: MenuItem) -> str:
        return item.section.slug

    def dehydrate_parent(self, item: MenuItem) -> str:
        return label_path(item.parent)

    def dehydrate_page(self, item: MenuItem) -> str:
        return item.page.slug if item.page else ""

    def dehydrate_report(self, item: MenuItem) -> str:
        return item.report.slug if item.report else ""

    def dehydrate_groups(self, item: MenuItem) -> str:
        if not item.pk:
            return ""
        return ", ".join(sorted(item.group_links.values_list("group__name", flat=True)))

    # Import ---------------------------------------------------------------------------------------------------------
    def _section(self, slug: str) -> Section:
        allowed = editable_sections(self.user) if self.user is not None else Section.objects.all()
        section = allowed.filter(slug=(slug or "").strip()).first()
        if section is None:
            raise ValidationError(f"Section “{slug}” does not exist or you may not edit it.")
        return section

    def _parent(self, section: Section, path: str) -> MenuItem | None:
        parent = None
        for label in [p.strip() for p in (path or "").split(PATH_SEPARATOR.strip()) if p.strip()]:
            parent = MenuItem.objects.all_sections().filter(section=section, parent=parent, label=label).first()
            if parent is None:
                raise ValidationError(f"Parent “{path}” does not exist in {section.slug}; import parents first.")
        return parent

    def _report(self, section: Section, slug: str) -> Any:
        from reports.models import ReportDefinition

        if not slug:
            return None
        report = ReportDefinition.objects.filter(section=section, slug=slug).first()
        if report is None:
            raise ValidationError(f"Report “{slug}” does not exist in {section.slug}; create it first.")
        return report

    def import_field(self, field: Any, instance: MenuItem, row: Any, is_m2m: bool = False, **kwargs: Any) -> None:
        if field.column_name == "section":
            instance.section = self._section(row.get("section"))
        elif field.column_name == "parent":
            instance.parent = self._parent(self._section(row.get("section")), row.get("parent"))
        elif field.column_name == "page":
            slug = (row.get("page") or "").strip()
            page = None
            if slug:
                page = Page.objects.all_sections().filter(section=self._section(row.get("section")), slug=slug).first()
                if page is None:
                    raise ValidationError(f"Page “{slug}” does not exist in {row.get('section')}.")
            instance.page = page
        elif field.column_name == "report":
            instance.report = self._report(self._section(row.get("section")), (row.get("report") or "").strip())
        elif field.column_name == "groups":
            return
        else:
            super().import_field(field, instance, row, is_m2m, **kwargs)

    def get_instance(self, instance_loader: Any, row: Any) -> MenuItem | None:
        section = self._section(row.get("section"))
        parent = self._parent(section, row.get("parent"))
        return MenuItem.objects.all_sections().filter(section=section, parent=parent, label=row.get("label")).first()

    def save_instance(self, instance: MenuItem, is_create: bool, row: Any, **kwargs: Any) -> None:
        names = [n.strip() for n in (row.get("groups") or "").split(",") if n.strip()]
        unknown = sorted(set(names) - set(Group.objects.filter(name__in=names).values_list("name", flat=True)))
        if unknown:
            raise ValidationError(f"Unknown group(s): {', '.join(unknown)}.")
        services.save_menu_item(
            instance,
            actor=self.user,
            reason="Imported menu",
            groups=list(Group.objects.filter(name__in=names)),
        )
