"""A section's menu moves between environments as a file: exported by natural keys, imported through the services."""

from __future__ import annotations

import pytest
import tablib

from accounts.models import User
from navigation.models import MenuItem, MenuItemGroup
from navigation.resources import MenuItemResource
from tenants.models import Section

pytestmark = pytest.mark.django_db


def _fiona(sign_in) -> User:
    sign_in("fiona")
    return User.objects.get(username="fiona")


def test_export_uses_slugs_label_paths_and_group_names_not_ids(demo, sign_in):
    dataset = MenuItemResource(user=_fiona(sign_in)).export()
    rows = {row["label"]: row for row in dataset.dict}
    assert {r["section"] for r in dataset.dict} == {"finance"}  # only the editor's own section
    assert rows["Travel expenses"]["parent"] == "Policies / Spending"
    assert rows["Travel expenses"]["page"] == "travel-expenses"
    assert rows["Editor guide"]["groups"] == "finance-editors"
    assert "id" not in dataset.headers


def test_import_into_an_emptied_section_recreates_the_same_menu_with_history(demo, sign_in):
    fiona = _fiona(sign_in)
    exported = MenuItemResource(user=fiona).export()
    finance = Section.objects.get(slug="finance")
    before = sorted(MenuItem.objects.all_sections().filter(section=finance).values_list("label", "order"))
    MenuItem.objects.all_sections().filter(section=finance).delete()
    result = MenuItemResource(user=fiona).import_data(tablib.Dataset().load(exported.csv, format="csv"))
    assert not result.has_errors() and not result.has_validation_errors()
    after = sorted(MenuItem.objects.all_sections().filter(section=finance).values_list("label", "order"))
    assert after == before
    guide = MenuItem.objects.all_sections().get(section=finance, label="Editor guide")
    assert list(MenuItemGroup.objects.all_sections().filter(item=guide).values_list("group__name", flat=True)) == [
        "finance-editors"
    ]
    entry = guide.history.latest("history_date")
    assert entry.history_user == fiona and entry.history_change_reason == "Imported menu"


def test_a_second_import_changes_nothing(demo, sign_in):
    fiona = _fiona(sign_in)
    exported = MenuItemResource(user=fiona).export()
    version = Section.objects.get(slug="finance").config_version
    result = MenuItemResource(user=fiona).import_data(tablib.Dataset().load(exported.csv, format="csv"))
    assert not result.has_errors()
    assert {row.import_type for row in result.rows} == {"skip"}
    assert Section.objects.get(slug="finance").config_version == version


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"section": "hr"}, "may not edit"),
        ({"section": "nope"}, "does not exist"),
        ({"parent": "No / Such"}, "does not exist"),
        ({"page": "missing-page"}, "does not exist"),
        ({"groups": "no-such-group"}, "Unknown group"),
        ({"url": "javascript:alert(1)"}, "https://"),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_half_imported(demo, sign_in, row, error):
    fiona = _fiona(sign_in)
    count = MenuItem.objects.all_sections().count()
    base = {
        "section": "finance", "parent": "", "label": "Imported", "icon": "", "placement": "both", "order": "5",
        "page": "", "route_name": "home", "url": "", "required_permission": "", "groups": "",
    }  # fmt: skip
    base.update(row)
    if row.get("url"):
        base["route_name"] = ""
    dataset = tablib.Dataset(headers=list(base))
    dataset.append(list(base.values()))
    result = MenuItemResource(user=fiona).import_data(dataset, raise_errors=False)
    messages = " ".join(
        [str(e.error) for _, errors in result.row_errors() for e in errors]
        + [str(v.error) for v in result.invalid_rows]
    )
    assert result.has_errors() or result.has_validation_errors()
    assert error in messages
    assert MenuItem.objects.all_sections().count() == count


def test_the_admin_offers_import_and_export_to_editors_only(demo, sign_in):
    assert sign_in("fiona").get("/admin/navigation/menuitem/export/").status_code == 200
    assert sign_in("fiona").get("/admin/navigation/menuitem/import/").status_code == 200
    assert sign_in("audrey").get("/admin/navigation/menuitem/import/").status_code == 403
