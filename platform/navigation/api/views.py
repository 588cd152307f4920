"""Viewsets of menu items and of the group mapping. Reads are limited to the sections the call may read (another
section's row is a 404); every write goes through navigation.services (validation, history with the acting user and
reason, Galera-safe transaction, configuration version bump)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from api.permissions import api_readable_sections
from api.viewsets import ApiViewSetMixin, as_api_validation_error, change_reason
from navigation import services
from navigation.models import MenuItem, MenuItemGroup, Placement
from tenants.api.views import require_editor

from .serializers import MenuItemGroupSerializer, MenuItemSerializer

DEFAULT_REASON = "Changed through the API"


class MenuItemFilter(filters.FilterSet):
    section = filters.NumberFilter(field_name="section_id", label="Only this section's items (its id).")
    section_slug = filters.CharFilter(field_name="section__slug", label="Only this section's items (its slug).")
    parent = filters.NumberFilter(field_name="parent_id", label="Only the children of this item (its id).")
    top_level = filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label="Only top-level items (true) or only children (false)."
    )
    placement = filters.ChoiceFilter(choices=Placement.choices, label="Only items shown in this place.")
    page = filters.NumberFilter(field_name="page_id", label="Only items linking to this page (its id).")
    group = filters.CharFilter(
        field_name="group_links__group__name", label="Only items mapped to this directory group (its name)."
    )
    label = filters.CharFilter(lookup_expr="icontains", label="Only items whose label contains this text.")

    class Meta:
        model = MenuItem
        fields = ["section", "section_slug", "parent", "top_level", "placement", "page", "group", "label"]


@extend_schema_view(
    list=extend_schema(
        summary="List menu items",
        description="The menu items of the sections whose configuration you may read: every section for platform "
        "admins and auditors, the sections you edit otherwise. A section-restricted token sees only its section.",
    ),
    retrieve=extend_schema(summary="Read a menu item", description="One menu item; 404 if you may not read it."),
    create=extend_schema(
        summary="Add a menu item",
        description="Editors of the item's section and platform admins. The item is validated as on the admin pages "
        "(one target, a page and parent of the same section, three levels at most, a Bootstrap Icons name); "
        "without `order` it goes last among its siblings. `groups` sets who sees it. The `reason` is kept in "
        "the history.",
    ),
    update=extend_schema(
        summary="Replace a menu item",
        description="Editors of the item's section; the section cannot change. `groups`, when given, replaces the "
        "mapping.",
    ),
    partial_update=extend_schema(
        summary="Change some of a menu item",
        description="Editors of the item's section; the section cannot change. `groups`, when given, replaces the "
        "mapping.",
    ),
    destroy=extend_schema(
        summary="Delete a menu item",
        description="Deletes the item with its children and group mapping, each in the history. An optional JSON "
        'body `{"reason": "…"}` is recorded.',
    ),
)
class MenuItemViewSet(ApiViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Menu items: read those of the sections you may read, change those of the sections you edit."""

    queryset = MenuItem.objects.none()
    serializer_class = MenuItemSerializer
    filterset_class = MenuItemFilter
    ordering_fields = ["id", "order", "label", "created", "updated"]
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[MenuItem]:
        return (
            MenuItem.objects.all_sections()
            .filter(section__in=api_readable_sections(self.request))
            .select_related("section", "page", "page__section", "report")
            .prefetch_related("group_links__group")
            .distinct()
        )

    def perform_create(self, serializer: MenuItemSerializer) -> None:  # type: ignore[override]
        data = dict(serializer.validated_data)
        require_editor(self.request, data["section"])
        groups = data.pop("groups", None)
        data.pop("reason", None)
        self._save(serializer, MenuItem(**data), groups, "Added through the API")

    def perform_update(self, serializer: MenuItemSerializer) -> None:  # type: ignore[override]
        item: MenuItem = serializer.instance  # type: ignore[assignment]
        require_editor(self.request, item.section)
        data = dict(serializer.validated_data)
        if "section" in data and data["section"].pk != item.section_id:
            raise as_api_validation_error(ValidationError({"section": "A menu item cannot move to another section."}))
        groups = data.pop("groups", None)
        data.pop("reason", None)
        for name, value in data.items():
            setattr(item, name, value)
        self._save(serializer, item, groups, DEFAULT_REASON)

    def _save(self, serializer: MenuItemSerializer, item: MenuItem, groups: Any, default_reason: str) -> None:
        try:
            services.save_menu_item(
                item, actor=self.request.user, reason=change_reason(self.request, default_reason), groups=groups
            )
        except ValidationError as exc:
            raise as_api_validation_error(_as_api_names(exc)) from None
        # Answer with the mapping as it now is (the prefetch of the request's object is stale).
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_destroy(self, instance: MenuItem) -> None:
        require_editor(self.request, instance.section)
        services.delete_menu_item(
            instance, actor=self.request.user, reason=change_reason(self.request, "Deleted through the API")
        )


def _as_api_names(exc: ValidationError) -> ValidationError:
    """The model's errors under the API's field names (the model's `url` is the API's `external_url`)."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {("external_url" if name == "url" else name): errors for name, errors in exc.error_dict.items()}
    )


class MenuItemGroupFilter(filters.FilterSet):
    section = filters.NumberFilter(field_name="section_id", label="Only this section's mapping (its id).")
    section_slug = filters.CharFilter(field_name="section__slug", label="Only this section's mapping (its slug).")
    item = filters.NumberFilter(field_name="item_id", label="Only the groups of this menu item (its id).")
    group = filters.CharFilter(field_name="group__name", label="Only the items of this directory group (its name).")

    class Meta:
        model = MenuItemGroup
        fields = ["section", "section_slug", "item", "group"]


@extend_schema_view(
    list=extend_schema(
        summary="List the group mapping of menu items",
        description="Which directory groups see which menu items, in the sections whose configuration you may read. "
        "An item with no rows here is shown to every viewer of its section.",
    ),
    retrieve=extend_schema(summary="Read a group mapping row", description="One row; 404 if you may not read it."),
    create=extend_schema(
        summary="Let a group see a menu item",
        description="Editors of the item's section and platform admins. Mapping a group twice is refused (400).",
    ),
    update=extend_schema(summary="Replace a group mapping row", description="Editors of the item's section."),
    partial_update=extend_schema(
        summary="Change a group mapping row", description="Editors of the item's section; the item stays in it."
    ),
    destroy=extend_schema(
        summary="Stop a group seeing a menu item",
        description="Removes the row (when it was the item's last one, every viewer of the section sees the item). "
        'An optional JSON body `{"reason": "…"}` is recorded.',
    ),
)
class MenuItemGroupViewSet(ApiViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """The LDAP-group-to-menu mapping: which directory groups see which menu items."""

    queryset = MenuItemGroup.objects.none()
    serializer_class = MenuItemGroupSerializer
    filterset_class = MenuItemGroupFilter
    ordering_fields = ["id", "created"]
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[MenuItemGroup]:
        return (
            MenuItemGroup.objects.all_sections()
            .filter(section__in=api_readable_sections(self.request))
            .select_related("section", "item", "group")
        )

    def perform_create(self, serializer: MenuItemGroupSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        item: MenuItem = data["item"]
        require_editor(self.request, item.section)
        self._save(serializer, MenuItemGroup(section=item.section, item=item, group=data["group"]), "Added")

    def perform_update(self, serializer: MenuItemGroupSerializer) -> None:  # type: ignore[override]
        link: MenuItemGroup = serializer.instance  # type: ignore[assignment]
        require_editor(self.request, link.section)
        data = serializer.validated_data
        item: MenuItem = data.get("item", link.item)
        if item.section_id != link.section_id:
            raise as_api_validation_error(ValidationError({"item": "Choose an item of the same section."}))
        link.item, link.group = item, data.get("group", link.group)
        self._save(serializer, link, "Changed")

    def _save(self, serializer: MenuItemGroupSerializer, link: MenuItemGroup, verb: str) -> None:
        duplicate = MenuItemGroup.objects.all_sections().filter(item=link.item, group=link.group).exclude(pk=link.pk)
        if duplicate.exists():
            raise as_api_validation_error(
                ValidationError({"group": f"The group {link.group.name} already sees “{link.item.label}”."})
            )
        try:
            services.save_item_group(
                link, actor=self.request.user, reason=change_reason(self.request, f"{verb} through the API")
            )
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        serializer.instance = link

    def perform_destroy(self, instance: MenuItemGroup) -> None:
        require_editor(self.request, instance.section)
        services.delete_item_group(
            instance, actor=self.request.user, reason=change_reason(self.request, "Removed through the API")
        )
