"""The starter navigation: items shown by group, and a change visible on the next page load."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from navigation.models import MenuItem
from tenants import services
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db


def test_items_are_shown_by_group(demo, sign_in):
    frank_page = sign_in("frank").get("/finance/").content.decode()
    fiona_page = sign_in("fiona").get("/finance/").content.decode()
    assert "Month-end calendar" in frank_page and "Editor guide" not in frank_page
    assert "Month-end calendar" in fiona_page and "Editor guide" in fiona_page


def test_a_new_item_appears_on_the_next_load(demo, sign_in):
    frank = sign_in("frank")
    assert "Budget rules" not in frank.get("/finance/").content.decode()  # warms the menu cache
    finance = Section.objects.get(slug="finance")
    item = MenuItem(section=finance, label="Budget rules", url="/finance/pages/1/", order=9)
    services.save_in_section(item, actor=None, reason="test")
    assert "Budget rules" in frank.get("/finance/").content.decode()


def test_a_group_change_on_an_item_hides_it_on_the_next_load(demo, sign_in):
    frank = sign_in("frank")
    assert "Month-end calendar" in frank.get("/finance/").content.decode()
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Month-end calendar")
    item.groups.set([Group.objects.get(name="finance-editors")])
    services.save_in_section(item, actor=None, reason="restrict")
    assert "Month-end calendar" not in frank.get("/finance/").content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "javascript:alert(1)"}, "https://"),
        ({"url": "http://example.com"}, "https://"),
        ({}, "one of the two"),
    ],
)
def test_bad_targets_are_refused(demo, fields, error):
    finance = Section.objects.get(slug="finance")
    item = MenuItem(section=finance, label="Bad", **fields)
    with pytest.raises(Exception, match=error):
        services.save_in_section(item, actor=None, reason="test")
    assert not MenuItem.objects.all_sections().filter(label="Bad").exists()


def test_an_item_cannot_link_another_sections_page(demo):
    finance = Section.objects.get(slug="finance")
    hr_page = Page.objects.all_sections().get(section__slug="hr", slug="policies")
    with pytest.raises(Exception, match="same section"):
        services.save_in_section(MenuItem(section=finance, label="Leak", page=hr_page), actor=None, reason="t")
