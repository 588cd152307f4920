"""The generated API tests (tests/api/base.py) applied to every configuration endpoint: sections, section roles,
menu items, their group mapping and themes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from navigation import services as navigation_services
from navigation.models import MenuItem, MenuItemGroup
from tenants.models import Section, SectionRole
from themes.models import Theme

from .base import ApiModelTests

pytestmark = pytest.mark.django_db


def section(slug: str) -> Section:
    return Section.objects.get(slug=slug)


def menu_item(slug: str, label: str) -> MenuItem:
    return MenuItem.objects.all_sections().get(section__slug=slug, label=label)


class TestSections(ApiModelTests):
    endpoint = "/api/v1/sections/"
    model = Section
    actions = frozenset({"list", "retrieve", "create", "update"})
    creator = "admin"  # onboarding is the platform admins'
    update_payload = {"support_email": "finance-help@example.com"}
    invalid_payload = {"slug": "api", "name": "", "editors_group": "x"}
    invalid_fields = {"slug", "name"}

    def finance_object(self) -> Any:
        return section("finance")

    def hr_object(self) -> Any:
        return section("hr")

    def create_payload(self) -> dict[str, Any]:
        return {"slug": "legal", "name": "Legal", "editors_group": "legal-editors"}

    def test_invalid_input_is_a_400_problem_naming_the_fields(self) -> None:
        self.writer = "admin"
        super().test_invalid_input_is_a_400_problem_naming_the_fields()


class TestSectionRoles(ApiModelTests):
    endpoint = "/api/v1/section-roles/"
    model = SectionRole
    actions = frozenset({"list", "retrieve", "create", "delete"})
    # The section field offers only sections the caller reads: another one "does not exist".
    outsider_create_status = 400
    invalid_payload = {"group": "no-such-group", "role": "owner"}
    invalid_fields = {"section", "group", "role"}

    def finance_object(self) -> Any:
        return SectionRole.objects.all_sections().filter(section__slug="finance", role="viewer").first()

    def hr_object(self) -> Any:
        return SectionRole.objects.all_sections().filter(section__slug="hr", role="viewer").first()

    def create_payload(self) -> dict[str, Any]:
        return {"section": section("finance").pk, "group": "hr-staff", "role": "viewer"}


class TestMenuItems(ApiModelTests):
    endpoint = "/api/v1/menu-items/"
    model = MenuItem
    update_payload = {"label": "Start", "placement": "sidebar"}
    invalid_payload = {"label": "", "icon": "Not An Icon", "external_url": "http://insecure.example.com/"}
    invalid_fields = {"section", "label", "icon", "external_url"}

    def finance_object(self) -> Any:
        return menu_item("finance", "Home")

    def hr_object(self) -> Any:
        return menu_item("hr", "Home")

    def create_payload(self) -> dict[str, Any]:
        return {
            "section": section("finance").pk,
            "label": "Expense tool",
            "icon": "house",
            "placement": "sidebar",
            "external_url": "https://expenses.example.com/",
            "groups": ["finance-staff"],
        }


class TestMenuItemGroups(ApiModelTests):
    endpoint = "/api/v1/menu-item-groups/"
    model = MenuItemGroup
    outsider_create_status = 400  # the item field offers only items the caller may read
    update_payload = {"group": "finance-staff"}
    invalid_payload = {"item": 999999, "group": "no-such-group"}
    invalid_fields = {"item", "group"}

    def finance_object(self) -> Any:
        return MenuItemGroup.objects.all_sections().get(item=menu_item("finance", "Editor guide"))

    def hr_object(self) -> Any:
        # The demo maps no groups in hr: map one, through the service, as an editor would.
        link = MenuItemGroup(
            section=section("hr"), item=menu_item("hr", "Policies"), group=Group.objects.get(name="hr-staff")
        )
        existing = MenuItemGroup.objects.all_sections().filter(item=link.item, group=link.group).first()
        return existing or navigation_services.save_item_group(link, actor=None, reason="Test set-up")

    def create_payload(self) -> dict[str, Any]:
        return {"item": menu_item("finance", "Home").pk, "group": "finance-staff"}


class TestThemes(ApiModelTests):
    endpoint = "/api/v1/themes/"
    model = Theme
    section_scoped = False
    writer = "admin"
    readers_who_cannot_write = ("fiona", "frank", "hana")
    outsiders = ()
    update_payload = {"name": "High contrast (2026)", "primary": "#112233"}
    invalid_payload = {"slug": "not a slug", "name": "", "primary": "blue"}
    invalid_fields = {"slug", "name", "primary"}

    def finance_object(self) -> Any:
        return Theme.objects.get(slug="high-contrast")

    def hr_object(self) -> Any:
        return Theme.objects.get(slug="default")

    def create_payload(self) -> dict[str, Any]:
        return {"slug": "harbour", "name": "Harbour", "primary": "#0b5394", "secondary": "#45818e"}
