"""The configuration history endpoint: the audit timeline for platform admins and auditors, its filters, and its
keyset cursor (every change once, however the pages are cut)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from navigation.models import MenuItem
from tenants.models import Section
from themes.models import Theme

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

HISTORY = "/api/v1/history/"


@pytest.fixture
def admin(token_for, bearer):
    return bearer(token_for("admin"))


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content[:500]
    return response.json()["results"]


def rename_home(token_for, bearer, reason: str = "Renamed for the audit test") -> MenuItem:
    home = MenuItem.objects.all_sections().get(section__slug="finance", label="Home")
    response = bearer(token_for("fiona", scope="write")).patch(
        f"/api/v1/menu-items/{home.pk}/", {"label": "Start", "reason": reason}
    )
    assert response.status_code == 200, response.content
    return home


def test_a_change_made_through_the_api_is_listed_first_with_its_reason(admin, token_for, bearer):
    home = rename_home(token_for, bearer)
    newest = rows(admin.get(HISTORY))[0]
    assert newest["model"] == "navigation.menuitem" and newest["model_name"] == "Menu item"
    assert (newest["object_id"], newest["object"], newest["action"]) == (str(home.pk), "Start", "changed")
    assert (newest["user"], newest["section"], newest["reason"]) == ("fiona", "finance", "Renamed for the audit test")
    assert newest["history_url"] == f"/audit/history/navigation/menuitem/{home.pk}/"
    assert newest["date"].endswith("Z") or "+" in newest["date"]


def test_only_platform_admins_and_auditors_read_the_history(token_for, bearer):
    assert rows(bearer(token_for("audrey")).get(HISTORY))
    for username in ("fiona", "frank"):
        assert_problem(bearer(token_for(username)).get(HISTORY), 403)
    assert_problem(bearer(token_for("admin", section="finance")).get(HISTORY), 403)
    assert_problem(APIClient().get(HISTORY), 401)


def test_the_history_is_read_only(token_for, bearer):
    client = bearer(token_for("admin", scope="write"))
    assert_problem(client.post(HISTORY, {"model": "x"}), 405)


def test_filters_by_model_section_user_action_object_and_date(admin, token_for, bearer):
    home = rename_home(token_for, bearer)
    by_model = rows(admin.get(HISTORY, {"model": "navigation.menuitem", "limit": 500}))
    assert by_model and {row["model"] for row in by_model} == {"navigation.menuitem"}
    by_section = rows(admin.get(HISTORY, {"section": "hr", "limit": 500}))
    assert by_section and {row["section"] for row in by_section} == {"hr"}
    assert [row["object"] for row in rows(admin.get(HISTORY, {"user": "fiona"}))] == ["Start"]
    versions = rows(admin.get(HISTORY, {"model": "navigation.menuitem", "object_id": home.pk}))
    assert [row["action"] for row in versions] == ["changed", "created"]
    created = rows(admin.get(HISTORY, {"action": "created", "section": "finance", "limit": 500}))
    assert created and {row["action"] for row in created} == {"created"}
    today = timezone.localdate()
    assert rows(admin.get(HISTORY, {"date_from": today.isoformat(), "user": "fiona"}))
    assert rows(admin.get(HISTORY, {"date_to": (today - timedelta(days=1)).isoformat()})) == []


def test_platform_tables_are_in_no_section(admin, token_for, bearer):
    contrast = Theme.objects.get(slug="high-contrast")
    changed = bearer(token_for("admin", scope="write")).patch(f"/api/v1/themes/{contrast.pk}/", {"name": "Contrast"})
    assert changed.status_code == 200, changed.content
    themes = rows(admin.get(HISTORY, {"model": "themes.theme", "limit": 500}))
    assert themes and {row["section"] for row in themes} == {None}
    body = assert_problem(admin.get(HISTORY, {"model": "themes.theme", "section": "finance"}), 400)
    assert body["invalid_params"][0]["name"] == "model"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"model": "nope.nothing"}, "model"),
        ({"section": "atlantis"}, "section"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "date_to"),
        ({"object_id": "abc"}, "object_id"),
        ({"action": "exploded"}, "action"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_filters_are_400_problems_naming_them(admin, query, name):
    body = assert_problem(admin.get(HISTORY, query), 400)
    assert [param["name"] for param in body["invalid_params"]] == [name]


def test_a_forged_cursor_is_refused(admin):
    assert_problem(admin.get(HISTORY, {"cursor": "bm9wZQ"}), 404)


def test_the_cursor_walks_every_change_once_even_while_changes_are_recorded(admin, token_for, bearer):
    expected = len(rows(admin.get(HISTORY, {"limit": 500})))
    assert expected > 10
    seen, url, pages = [], f"{HISTORY}?limit=7", 0
    while url:
        page = admin.get(url).json()
        seen += [(row["model"], row["history_id"]) for row in page["results"]]
        assert page["previous"] is None
        url, pages = page["next"], pages + 1
        if pages == 1:
            rename_home(token_for, bearer)  # a newer change must not shift the older pages
    assert len(seen) == len(set(seen)) == expected
    dates = [datetime.fromisoformat(row["date"]) for row in rows(admin.get(HISTORY, {"limit": 500}))]
    assert dates == sorted(dates, reverse=True)
    assert Section.objects.count() == 3
