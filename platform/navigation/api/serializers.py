"""Serializers of menu items and of the group mapping (which directory groups see an item). Fields are listed
explicitly; related rows are named by id and limited to the sections the call may read, so another section's item,
page or parent "does not exist" (400), and the model's own validation (one target, same section, three levels at
most) runs in the services."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.permissions import api_readable_sections
from api.viewsets import reason_field
from navigation.models import MenuItem, MenuItemGroup, Placement, TargetKind, validate_external_url
from tenants.models import Page, Section


def _readable(request: Any) -> Any:
    return api_readable_sections(request) if request is not None else Section.objects.none()


class AnySectionField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A section id. Any section is accepted here; the view answers 403 unless the call may change it (section slugs
    and ids are no secret: the home page lists the sections)."""

    def get_queryset(self) -> Any:
        return Section.objects.all()


class ReadableItemField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A menu item id, among the sections this call may read: any other id "does not exist"."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return MenuItem.objects.all_sections().filter(section__in=_readable(request)).select_related("section")


class ReadablePageField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A page id, among the sections this call may read."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return Page.objects.all_sections().filter(section__in=_readable(request))


class ReadableReportField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A shared report's id, among the sections this call may read (the model checks it is the item's section)."""

    def get_queryset(self) -> Any:
        from reports.models import ReportDefinition

        request = self.context.get("request")
        return ReportDefinition.objects.filter(section__in=_readable(request))


class GroupNamesField(serializers.ListField):  # type: ignore[type-arg]
    """The names of the groups that see an item: read from its mapping rows, written as names of existing groups."""

    child = serializers.CharField(max_length=150)

    def get_attribute(self, instance: Any) -> Any:
        return instance

    def to_representation(self, data: Any) -> list[str]:
        # The mapping is its own table (with history); the view prefetches it.
        return sorted(link.group.name for link in data.group_links.all())

    def to_internal_value(self, data: Any) -> list[Group]:
        names = list(dict.fromkeys(super().to_internal_value(data)))
        found = {group.name: group for group in Group.objects.filter(name__in=names)}
        unknown = [name for name in names if name not in found]
        if unknown:
            raise serializers.ValidationError(f"No directory group named {', '.join(unknown)}.")
        return [found[name] for name in names]


# The same values as a section's navigation layout, with the labels of a menu item (the schema names each choice
# set once, by its values and labels).
PLACEMENTS = [
    (Placement.TOP.value, "In the top bar"),
    (Placement.SIDEBAR.value, "In the sidebar"),
    (Placement.BOTH.value, "In the top bar and the sidebar"),
]

MENU_ITEM_EXAMPLE = {
    "id": 12,
    "url": "https://portal.example.com/api/v1/menu-items/12/",
    "section": 1,
    "section_slug": "finance",
    "parent": None,
    "label": "Month-end calendar",
    "icon": "calendar-event",
    "placement": "both",
    "order": 20,
    "page": 4,
    "route_name": "",
    "external_url": "",
    "required_permission": "",
    "target_kind": "page",
    "href": "/finance/month-end/",
    "groups": ["finance-editors", "finance-staff"],
    "created": "2026-01-12T09:30:00Z",
    "updated": "2026-03-02T14:05:11Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A menu item", value=MENU_ITEM_EXAMPLE, response_only=True),
        OpenApiExample(
            "Add a link for the finance staff",
            value={
                "section": 1,
                "label": "Expense tool",
                "icon": "receipt",
                "placement": "sidebar",
                "external_url": "https://expenses.example.com/",
                "groups": ["finance-staff"],
                "reason": "Requested in CHG-2001",
            },
            request_only=True,
        ),
    ]
)
class MenuItemSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """One entry of a section's menu: a label, an icon, where it shows, and one target (a page of the section, a named
    platform route or an external https address, or none for a heading). `groups` lists the directory groups that
    see it; none means every viewer of the section."""

    url = serializers.HyperlinkedIdentityField(view_name="api:menu-item-detail")
    section = AnySectionField(help_text="The section's id (it cannot change once the item exists).")
    section_slug = serializers.CharField(source="section.slug", read_only=True)
    parent = ReadableItemField(
        required=False, allow_null=True, help_text="The parent item's id (same section); null at the top level."
    )
    page = ReadablePageField(required=False, allow_null=True, help_text="The target page's id (same section).")
    report = ReadableReportField(
        required=False, allow_null=True, help_text="The target report's id (a shared report of the same section)."
    )
    placement = serializers.ChoiceField(choices=PLACEMENTS, required=False, help_text="Where the item is shown.")
    external_url = serializers.CharField(
        source="url",
        required=False,
        allow_blank=True,
        max_length=500,
        validators=[validate_external_url],
        help_text="The target as an external https:// address.",
    )
    target_kind = serializers.ChoiceField(choices=TargetKind.choices, read_only=True)
    href = serializers.CharField(read_only=True, help_text="Where the item links to, as the menu renders it.")
    groups = GroupNamesField(
        required=False,
        help_text="Names of the directory groups that see the item (empty: every viewer of the section). "
        "Given on a write, it replaces the mapping.",
    )
    reason = reason_field()

    class Meta:
        model = MenuItem
        fields = (
            "id",
            "url",
            "section",
            "section_slug",
            "parent",
            "label",
            "icon",
            "placement",
            "order",
            "page",
            "report",
            "route_name",
            "external_url",
            "required_permission",
            "target_kind",
            "href",
            "groups",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("created", "updated")
        extra_kwargs = {"order": {"required": False, "help_text": "Position among its siblings (empty: last)."}}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "A group mapping",
            value={
                "id": 31,
                "url": "https://portal.example.com/api/v1/menu-item-groups/31/",
                "section": 1,
                "section_slug": "finance",
                "item": 12,
                "item_label": "Month-end calendar",
                "group": "finance-staff",
                "created": "2026-01-12T09:30:00Z",
                "updated": "2026-01-12T09:30:00Z",
            },
            response_only=True,
        ),
        OpenApiExample(
            "Let the finance editors see an item",
            value={"item": 12, "group": "finance-editors", "reason": "Editors need the calendar (CHG-2002)"},
            request_only=True,
        ),
    ]
)
class MenuItemGroupSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """“Members of this directory group see this menu item.” An item without any mapping is shown to every viewer of
    its section. The section is the item's."""

    url = serializers.HyperlinkedIdentityField(view_name="api:menu-item-group-detail")
    section = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The item's section (its id).")
    section_slug = serializers.CharField(source="section.slug", read_only=True)
    item = ReadableItemField(help_text="The menu item's id.")
    item_label = serializers.CharField(source="item.label", read_only=True)
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), help_text="The directory group's name."
    )
    reason = reason_field()

    class Meta:
        model = MenuItemGroup
        fields = ("id", "url", "section", "section_slug", "item", "item_label", "group", "created", "updated", "reason")
        read_only_fields = ("created", "updated")
        # The (item, group) uniqueness is checked in the view, on the field a client can fix.
        validators: list[Any] = []
