"""Navigation: items shown by group, three levels, targets validated, changes visible on the next load."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from navigation import services
from navigation.menus import visible_menu
from navigation.models import MenuItem, MenuItemGroup
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db


def _finance() -> Section:
    return Section.objects.get(slug="finance")


def test_items_are_shown_by_group(demo, sign_in):
    frank_page = sign_in("frank").get("/finance/").content.decode()
    fiona_page = sign_in("fiona").get("/finance/").content.decode()
    assert "Month-end calendar" in frank_page and "Editor guide" not in frank_page
    assert "Month-end calendar" in fiona_page and "Editor guide" in fiona_page


def test_three_levels_render_with_icons_and_external_links_open_safely(demo, sign_in):
    page = sign_in("frank").get("/finance/").content.decode()
    assert "Travel expenses" in page and "bi-calendar-event" in page
    assert 'href="https://docs.djangoproject.com/en/5.2/"' in page
    assert 'rel="noopener noreferrer" target="_blank"' in page


def test_a_new_item_appears_on_the_next_load(demo, sign_in):
    frank = sign_in("frank")
    assert "Budget planning" not in frank.get("/finance/").content.decode()  # warms the menu cache
    page = Page.objects.all_sections().get(section=_finance(), slug="budget-rules")
    services.save_menu_item(MenuItem(section=_finance(), label="Budget planning", page=page), actor=None, reason="t")
    assert "Budget planning" in frank.get("/finance/").content.decode()


def test_a_group_change_on_an_item_hides_it_on_the_next_load(demo, sign_in):
    frank = sign_in("frank")
    assert "Month-end calendar" in frank.get("/finance/").content.decode()
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Month-end calendar")
    services.set_item_groups(item, [Group.objects.get(name="finance-editors")], actor=None, reason="restrict")
    assert "Month-end calendar" not in frank.get("/finance/").content.decode()
    removed = MenuItemGroup.history.filter(item_id=item.pk, history_type="-").latest("history_date")
    assert removed.history_change_reason == "restrict" and removed.group.name == "finance-staff"


def test_a_heading_with_no_visible_children_is_hidden(demo):
    finance = _finance()
    heading = MenuItem(section=finance, label="Editors only")
    services.save_menu_item(heading, actor=None, reason="t")
    child = MenuItem(section=finance, parent=heading, label="Secret", route_name="home")
    services.save_menu_item(child, actor=None, reason="t", groups=[Group.objects.get(name="finance-editors")])
    staff = {Group.objects.get(name="finance-staff").pk}
    from navigation.menus import menu_for_groups

    assert "Editors only" not in [e.label for e in menu_for_groups(finance, staff)]
    editors = {Group.objects.get(name="finance-editors").pk}
    assert "Editors only" in [e.label for e in menu_for_groups(finance, editors)]


def test_required_permission_hides_an_item_from_groups_without_it(demo, sign_in):
    from django.contrib.auth.models import Permission

    finance = _finance()
    item = MenuItem(section=finance, label="Needs perm", route_name="home", required_permission="tenants.view_page")
    services.save_menu_item(item, actor=None, reason="t")
    frank = sign_in("frank")
    assert "Needs perm" not in frank.get("/finance/").content.decode()
    Group.objects.get(name="finance-staff").permissions.add(Permission.objects.get(codename="view_page"))
    services.save_menu_item(item, actor=None, reason="version bump")
    assert "Needs perm" in frank.get("/finance/").content.decode()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "javascript:alert(1)"}, "https://"),
        ({"url": "http://example.com"}, "https://"),
        ({"route_name": "no-such-route"}, "no platform route named"),
        ({"route_name": "home", "url": "https://example.com"}, "one target"),
        ({"icon": "not an icon"}, "Bootstrap Icons"),
        ({"icon": "no-such-icon-xyz"}, "Bootstrap Icons"),
        ({"required_permission": "no dot"}, r"app_label\.codename"),
    ],
)
def test_bad_items_are_refused_with_a_clear_error(demo, fields, error):
    item = MenuItem(section=_finance(), label="Bad", **fields)
    with pytest.raises(ValidationError, match=error):
        services.save_menu_item(item, actor=None, reason="test")
    assert not MenuItem.objects.all_sections().filter(label="Bad").exists()


def test_a_fourth_level_is_refused(demo):
    travel = MenuItem.objects.all_sections().get(section=_finance(), label="Travel expenses")
    assert travel.depth() == 3
    with pytest.raises(ValidationError, match="at most 3 levels"):
        services.save_menu_item(MenuItem(section=_finance(), parent=travel, label="Too deep"), actor=None, reason="t")


def test_a_cycle_is_refused(demo):
    policies = MenuItem.objects.all_sections().get(section=_finance(), label="Policies")
    spending = MenuItem.objects.all_sections().get(section=_finance(), label="Spending")
    policies.parent = spending
    with pytest.raises(ValidationError, match=r"own ancestor|at most 3 levels"):
        services.save_menu_item(policies, actor=None, reason="cycle")
    policies.refresh_from_db()
    assert policies.parent is None


def test_an_item_cannot_link_another_sections_page(demo):
    hr_page = Page.objects.all_sections().get(section__slug="hr", slug="policies")
    with pytest.raises(ValidationError, match="same section"):
        services.save_menu_item(MenuItem(section=_finance(), label="Leak", page=hr_page), actor=None, reason="t")


def test_moving_an_item_up_reorders_its_siblings(demo):
    month_end = MenuItem.objects.all_sections().get(section=_finance(), label="Month-end calendar")
    services.move_menu_item(month_end, "up", actor=None)
    labels = [e.label for e in visible_menu(_superuser(), _finance())]
    assert labels.index("Month-end calendar") < labels.index("Home")


def _superuser():
    from accounts.models import User

    return User.objects.create(username="root-for-test", is_superuser=True)


def test_editor_moves_items_in_the_admin_but_not_another_sections(demo, sign_in):
    fiona = sign_in("fiona")
    item = MenuItem.objects.all_sections().get(section=_finance(), label="Month-end calendar")
    assert fiona.post(f"/admin/navigation/menuitem/{item.pk}/move/", {"direction": "up"}).status_code == 302
    hr_item = MenuItem.objects.all_sections().filter(section__slug="hr").first()
    assert fiona.post(f"/admin/navigation/menuitem/{hr_item.pk}/move/", {"direction": "up"}).status_code == 404


def test_view_as_group_preview_shows_what_a_group_sees(demo, sign_in):
    fiona = sign_in("fiona")
    finance = _finance()
    staff = Group.objects.get(name="finance-staff")
    editors = Group.objects.get(name="finance-editors")
    as_staff = fiona.get(f"/admin/navigation/menuitem/preview/?section={finance.pk}&group={staff.pk}").content.decode()
    as_editors = fiona.get(
        f"/admin/navigation/menuitem/preview/?section={finance.pk}&group={editors.pk}"
    ).content.decode()
    assert "Month-end calendar" in as_staff and "Editor guide" not in as_staff
    assert "Editor guide" in as_editors
    hr = Section.objects.get(slug="hr")
    as_hr = fiona.get(f"/admin/navigation/menuitem/preview/?section={hr.pk}").content.decode()
    assert "Policies" not in as_hr  # fiona may not read hr: the preview falls back to her own section
