"""The menu-items and menu-item-groups endpoints beyond the generated tests: the model's rules as 400 problems,
the group mapping written with history, deletion of a whole branch, the section's configuration version, and the
list conventions (filters, ordering, ?fields=, cursor)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from navigation.models import MenuItem, MenuItemGroup
from tenants.models import Page, Section

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def item(slug: str, label: str) -> MenuItem:
    return MenuItem.objects.all_sections().get(section__slug=slug, label=label)


def labels(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["label"] for row in response.json()["results"]]


@pytest.fixture
def fiona(token_for, bearer):
    return bearer(token_for("fiona", scope="write"))


def test_an_item_answers_its_target_groups_and_section(fiona):
    calendar = item("finance", "Month-end calendar")
    body = fiona.get(f"/api/v1/menu-items/{calendar.pk}/").json()
    assert body["section_slug"] == "finance" and body["target_kind"] == "page"
    assert body["href"] == calendar.page.get_absolute_url() and body["page"] == calendar.page_id
    assert body["groups"] == ["finance-editors", "finance-staff"]
    assert body["url"] == f"http://testserver/api/v1/menu-items/{calendar.pk}/"


def test_creating_an_item_with_groups_maps_them_with_history_and_bumps_the_version(fiona):
    finance = Section.objects.get(slug="finance")
    before = finance.config_version
    policies = item("finance", "Policies")
    response = fiona.post(
        "/api/v1/menu-items/",
        {
            "section": finance.pk,
            "parent": policies.pk,
            "label": "Procurement",
            "route_name": "home",
            "groups": ["finance-editors"],
            "reason": "CHG-2001",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    created = MenuItem.objects.all_sections().get(pk=response.json()["id"])
    assert created.parent == policies and created.order > 0  # placed last among its siblings
    assert response.json()["groups"] == ["finance-editors"]
    link = MenuItemGroup.objects.all_sections().get(item=created)
    assert link.history.get().history_change_reason == "CHG-2001"
    assert created.history.get().history_user.username == "fiona"
    finance.refresh_from_db()
    assert finance.config_version > before


def test_patching_groups_replaces_the_mapping_and_leaves_it_alone_otherwise(fiona):
    calendar = item("finance", "Month-end calendar")
    url = f"/api/v1/menu-items/{calendar.pk}/"
    assert fiona.patch(url, {"label": "Close calendar"}, format="json").json()["groups"] == [
        "finance-editors",
        "finance-staff",
    ]
    response = fiona.patch(url, {"groups": ["finance-editors"], "reason": "Staff no longer"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["groups"] == ["finance-editors"]
    removed = MenuItemGroup.history.filter(item_id=calendar.pk, history_type="-").get()
    assert removed.group.name == "finance-staff" and removed.history_change_reason == "Staff no longer"
    assert fiona.patch(url, {"groups": []}, format="json").json()["groups"] == []


def test_deleting_an_item_deletes_its_branch_and_mapping_with_history(fiona):
    policies = item("finance", "Policies")
    branch = [policies.pk, *MenuItem.objects.all_sections().filter(parent=policies).values_list("pk", flat=True)]
    response = fiona.delete(f"/api/v1/menu-items/{policies.pk}/", {"reason": "Moved to the intranet"}, format="json")
    assert response.status_code == 204
    assert not MenuItem.objects.all_sections().filter(pk__in=branch).exists()
    assert not MenuItem.objects.all_sections().filter(section__slug="finance", label="Travel expenses").exists()
    assert MenuItem.history.filter(id=policies.pk, history_type="-").get().history_change_reason == (
        "Moved to the intranet"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"route_name": "no-such-route"}, "route_name"),
        ({"external_url": "javascript:alert(1)"}, "external_url"),
        ({"icon": "not-an-icon-at-all"}, "icon"),
        ({"required_permission": "not a permission"}, "required_permission"),
        ({"placement": "footer"}, "placement"),
        ({"label": ""}, "label"),
    ],
)
def test_the_models_rules_are_400_problems_on_their_field(fiona, change, field):
    heading = item("finance", "Policies")  # no target of its own: only the rule under test can refuse it
    versions = heading.history.count()
    body = assert_problem(fiona.patch(f"/api/v1/menu-items/{heading.pk}/", change, format="json"), 400)
    assert field in {param["name"] for param in body["invalid_params"]}, body
    heading.refresh_from_db()
    assert heading.label == "Policies" and heading.history.count() == versions


def test_two_targets_are_refused(fiona):
    home = item("finance", "Home")
    body = assert_problem(
        fiona.patch(f"/api/v1/menu-items/{home.pk}/", {"external_url": "https://example.com/"}, format="json"), 400
    )
    assert "one target" in body["detail"]


def test_a_fourth_level_is_refused(fiona):
    travel = item("finance", "Travel expenses")  # already on the third level
    finance = Section.objects.get(slug="finance")
    body = assert_problem(
        fiona.post("/api/v1/menu-items/", {"section": finance.pk, "parent": travel.pk, "label": "Too deep"}), 400
    )
    assert [param["name"] for param in body["invalid_params"]] == ["parent"]


def test_another_sections_parent_page_or_section_is_refused(fiona, token_for, bearer):
    finance = Section.objects.get(slug="finance")
    hr_home, hr_page = item("hr", "Home"), Page.objects.all_sections().get(section__slug="hr", slug="policies")
    for payload, field in (({"parent": hr_home.pk}, "parent"), ({"page": hr_page.pk}, "page")):
        body = assert_problem(
            fiona.post("/api/v1/menu-items/", {"section": finance.pk, "label": "X", **payload}, format="json"), 400
        )
        assert [param["name"] for param in body["invalid_params"]] == [field]
    # An admin sees both sections, so the model's own rule answers: the page must be the item's section's.
    admin = bearer(token_for("admin", scope="write"))
    body = assert_problem(
        admin.post("/api/v1/menu-items/", {"section": finance.pk, "label": "X", "page": hr_page.pk}), 400
    )
    assert [param["name"] for param in body["invalid_params"]] == ["page"]
    home = item("finance", "Home")
    hr = Section.objects.get(slug="hr")
    body = assert_problem(admin.patch(f"/api/v1/menu-items/{home.pk}/", {"section": hr.pk}), 400)
    assert [param["name"] for param in body["invalid_params"]] == ["section"]
    assert not MenuItem.objects.all_sections().filter(label="X").exists()


def test_an_editor_cannot_add_items_to_another_section(fiona):
    hr = Section.objects.get(slug="hr")
    body = assert_problem(fiona.post("/api/v1/menu-items/", {"section": hr.pk, "label": "Sneaky"}), 403)
    assert "hr" in body["detail"]
    assert not MenuItem.objects.all_sections().filter(label="Sneaky").exists()


def test_an_unknown_group_is_a_400_problem(fiona):
    home = item("finance", "Home")
    body = assert_problem(fiona.patch(f"/api/v1/menu-items/{home.pk}/", {"groups": ["nobody"]}, format="json"), 400)
    assert body["invalid_params"][0]["name"] == "groups" and "nobody" in body["invalid_params"][0]["reason"]


def test_filters_ordering_and_fields(token_for, bearer):
    client = bearer(token_for("admin"))
    policies = item("finance", "Policies")
    assert labels(client.get("/api/v1/menu-items/", {"parent": policies.pk, "ordering": "label"})) == [
        "Budget rules",
        "Spending",
    ]
    assert labels(client.get("/api/v1/menu-items/", {"section_slug": "hr", "ordering": "label"})) == [
        "Headcount by department",
        "Home",
        "Policies",
    ]
    sidebar = labels(client.get("/api/v1/menu-items/", {"section_slug": "finance", "placement": "sidebar"}))
    assert sorted(sidebar) == ["Django documentation", "Editor guide"]
    top = labels(client.get("/api/v1/menu-items/", {"section_slug": "finance", "top_level": "true"}))
    assert "Budget rules" not in top and "Policies" in top
    mapped = labels(client.get("/api/v1/menu-items/", {"group": "finance-editors", "ordering": "label"}))
    assert mapped == ["Editor guide", "Month-end calendar", "Policies"]
    rows = client.get("/api/v1/menu-items/", {"fields": "id,label", "section_slug": "hr"}).json()["results"]
    assert rows and all(set(row) == {"id", "label"} for row in rows)
    assert_problem(client.get("/api/v1/menu-items/", {"ordering": "section__slug"}), 400)
    assert_problem(client.get("/api/v1/menu-items/", {"placement": "footer"}), 400)
    assert_problem(client.get("/api/v1/menu-items/", {"fields": "secret"}), 400)


def test_the_cursor_walks_every_item_once(token_for, bearer):
    client = bearer(token_for("admin"))
    seen, url = [], "/api/v1/menu-items/?limit=3"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(MenuItem.objects.all_sections().values_list("pk", flat=True))
    assert len(seen) == len(set(seen))


def test_the_group_mapping_endpoint_adds_changes_and_removes_rows(fiona):
    home = item("finance", "Home")
    created = fiona.post(
        "/api/v1/menu-item-groups/", {"item": home.pk, "group": "finance-staff", "reason": "ACC-9"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["section_slug"], body["item_label"], body["group"]) == ("finance", "Home", "finance-staff")
    link = MenuItemGroup.objects.all_sections().get(pk=body["id"])
    assert link.section.slug == "finance" and link.history.get().history_change_reason == "ACC-9"
    duplicate = fiona.post("/api/v1/menu-item-groups/", {"item": home.pk, "group": "finance-staff"}, format="json")
    assert [param["name"] for param in assert_problem(duplicate, 400)["invalid_params"]] == ["group"]
    # Moving the row to an item of another section is refused (the item does not exist for fiona).
    hr_home = item("hr", "Home")
    moved = fiona.patch(f"/api/v1/menu-item-groups/{link.pk}/", {"item": hr_home.pk}, format="json")
    assert [param["name"] for param in assert_problem(moved, 400)["invalid_params"]] == ["item"]
    assert fiona.delete(f"/api/v1/menu-item-groups/{link.pk}/").status_code == 204
    assert not MenuItemGroup.objects.all_sections().filter(pk=link.pk).exists()


def test_an_admin_cannot_move_a_mapping_row_across_sections(token_for, bearer):
    admin = bearer(token_for("admin", scope="write"))
    link = MenuItemGroup.objects.all_sections().filter(section__slug="finance").first()
    hr_home = item("hr", "Home")
    response = admin.patch(f"/api/v1/menu-item-groups/{link.pk}/", {"item": hr_home.pk}, format="json")
    assert [param["name"] for param in assert_problem(response, 400)["invalid_params"]] == ["item"]
    link.refresh_from_db()
    assert link.item.section.slug == "finance"


def test_mapping_filters(token_for, bearer):
    client = bearer(token_for("admin"))
    editor_guide = item("finance", "Editor guide")
    rows = client.get("/api/v1/menu-item-groups/", {"item": editor_guide.pk}).json()["results"]
    assert [row["group"] for row in rows] == ["finance-editors"]
    staff = client.get("/api/v1/menu-item-groups/", {"group": "finance-staff", "section_slug": "finance"}).json()
    assert {row["item_label"] for row in staff["results"]} == {"Month-end calendar", "Policies"}
    assert Group.objects.filter(name="finance-staff").exists()


def test_put_replaces_an_item_and_options_describes_the_endpoint(fiona):
    spending = item("finance", "Spending")
    body = {"section": spending.section_id, "parent": spending.parent_id, "label": "Costs", "route_name": "home"}
    response = fiona.put(f"/api/v1/menu-items/{spending.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["label"], response.json()["target_kind"]) == ("Costs", "route")
    assert fiona.options("/api/v1/menu-items/").status_code == 200
    for bad in ({"groups": "finance-staff"}, {"parent": "abc"}, {"order": -1}, {"parent": spending.pk}):
        assert_problem(fiona.patch(f"/api/v1/menu-items/{spending.pk}/", bad, format="json"), 400)


def test_malformed_bodies_are_400_problems_not_errors(fiona):
    home = item("finance", "Home")
    for url in ("/api/v1/menu-items/", "/api/v1/menu-item-groups/"):
        assert_problem(fiona.generic("POST", url, "{not json", content_type="application/json"), 400)
        assert_problem(fiona.post(url, [1, 2], format="json"), 400)
    for bad in ({"section": [1]}, {"label": {"x": 1}}, {"page": 10**12}):
        assert_problem(fiona.patch(f"/api/v1/menu-items/{home.pk}/", bad, format="json"), 400)


def test_an_item_can_open_a_report_of_its_section_but_not_another_sections(fiona, token_for, bearer):
    from reports.models import ReportDefinition

    finance = Section.objects.get(slug="finance")
    invoices = ReportDefinition.objects.get(section=finance, slug="invoices-by-supplier")
    headcount = ReportDefinition.objects.get(section__slug="hr", slug="headcount-by-department")
    payload = {"section": finance.pk, "label": "Supplier spend", "report": invoices.pk, "reason": "CHG-2010"}
    response = fiona.post("/api/v1/menu-items/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["target_kind"] == "report"
    assert response.json()["href"] == invoices.get_absolute_url()
    # hr's report is outside what fiona may read: the id is as good as unknown
    refused = fiona.post(
        "/api/v1/menu-items/", {**payload, "label": "HR numbers", "report": headcount.pk}, format="json"
    )
    assert_problem(refused, 400)
    assert "report" in str(refused.json())
    assert not MenuItem.objects.all_sections().filter(label="HR numbers").exists()
    # an admin may read hr's report, but the model refuses a report of another section
    admin = bearer(token_for("admin", scope="write"))
    crossed = admin.post(
        "/api/v1/menu-items/", {**payload, "label": "HR numbers", "report": headcount.pk}, format="json"
    )
    assert_problem(crossed, 400)
    assert not MenuItem.objects.all_sections().filter(label="HR numbers").exists()
