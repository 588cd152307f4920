"""The themes and preferences endpoints beyond the generated tests: one default theme, the default cannot be
deleted, section-restricted tokens cannot change platform themes, and each person's own preferences."""

from __future__ import annotations

import pytest

from themes.models import Theme, UserPreference

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_everyone_signed_in_reads_the_themes(token_for, bearer):
    for username in ("frank", "hana", "audrey"):
        slugs = {row["slug"] for row in bearer(token_for(username)).get("/api/v1/themes/").json()["results"]}
        assert {"default", "high-contrast"} <= slugs


def test_making_a_theme_the_default_takes_the_default_from_the_other(token_for, bearer):
    admin = bearer(token_for("admin", scope="write"))
    contrast = Theme.objects.get(slug="high-contrast")
    response = admin.patch(f"/api/v1/themes/{contrast.pk}/", {"is_default": True, "reason": "Accessibility month"})
    assert response.status_code == 200, response.content
    assert list(Theme.objects.filter(is_default=True).values_list("slug", flat=True)) == ["high-contrast"]
    old = Theme.objects.get(slug="default").history.latest()
    assert (old.is_default, old.history_change_reason) == (False, "Accessibility month")
    assert admin.get("/api/v1/themes/", {"is_default": "true"}).json()["results"][0]["slug"] == "high-contrast"


def test_the_default_theme_cannot_be_deleted(token_for, bearer):
    default = Theme.objects.get(is_default=True)
    body = assert_problem(bearer(token_for("admin", scope="write")).delete(f"/api/v1/themes/{default.pk}/"), 400)
    assert "default" in body["detail"]
    assert Theme.objects.filter(pk=default.pk).exists()


def test_a_section_restricted_admin_token_cannot_change_themes(token_for, bearer):
    admin = bearer(token_for("admin", scope="write", section="finance"))
    contrast = Theme.objects.get(slug="high-contrast")
    assert admin.get(f"/api/v1/themes/{contrast.pk}/").status_code == 200
    assert_problem(admin.patch(f"/api/v1/themes/{contrast.pk}/", {"name": "Mine"}), 403)
    assert_problem(admin.post("/api/v1/themes/", {"slug": "x", "name": "X"}), 403)
    contrast.refresh_from_db()
    assert contrast.name != "Mine"


def test_a_theme_package_must_exist(token_for, bearer):
    admin = bearer(token_for("admin", scope="write"))
    body = assert_problem(admin.post("/api/v1/themes/", {"slug": "x", "name": "X", "package": "nope"}), 400)
    assert [param["name"] for param in body["invalid_params"]] == ["package"]
    duplicate = assert_problem(admin.post("/api/v1/themes/", {"slug": "default", "name": "Again"}), 400)
    assert [param["name"] for param in duplicate["invalid_params"]] == ["slug"]


# ---------------------------------------------------------------------------------------------------------------
# Preferences: the caller's own
# ---------------------------------------------------------------------------------------------------------------
def test_preferences_start_as_the_defaults_without_writing_a_row(token_for, bearer):
    client = bearer(token_for("frank"))
    response = client.get("/api/v1/preferences/me/")
    assert response.status_code == 200
    assert response.json() == {"colour_mode": "", "theme": None, "sidebar_collapsed": False, "updated": None}
    assert not UserPreference.objects.filter(user__username="frank").exists()
    assert client.get("/api/v1/preferences/").json()["results"] == []


def test_patching_preferences_saves_them_for_every_device(token_for, bearer):
    client = bearer(token_for("frank", scope="write"))
    response = client.patch("/api/v1/preferences/me/", {"colour_mode": "dark", "theme": "high-contrast"})
    assert response.status_code == 200, response.content
    assert response.json()["colour_mode"] == "dark" and response.json()["theme"] == "high-contrast"
    saved = UserPreference.objects.get(user__username="frank")
    assert (saved.colour_mode, saved.theme.slug, saved.sidebar_collapsed) == ("dark", "high-contrast", False)
    assert client.patch("/api/v1/preferences/me/", {"sidebar_collapsed": True}).json()["colour_mode"] == "dark"
    listed = client.get("/api/v1/preferences/").json()["results"]
    assert listed == [client.get("/api/v1/preferences/me/").json()]
    assert listed[0]["sidebar_collapsed"] is True
    # Another person's preferences are not theirs to read.
    other = bearer(token_for("hana")).get("/api/v1/preferences/me/").json()
    assert other["colour_mode"] == "" and other["theme"] is None


def test_bad_preferences_are_400_problems(token_for, bearer):
    client = bearer(token_for("frank", scope="write"))
    for change, field in (({"colour_mode": "purple"}, "colour_mode"), ({"theme": "nope"}, "theme")):
        body = assert_problem(client.patch("/api/v1/preferences/me/", change), 400)
        assert [param["name"] for param in body["invalid_params"]] == [field]
    assert not UserPreference.objects.filter(user__username="frank").exists()


def test_a_read_token_cannot_change_preferences_but_an_auditor_may_change_their_own(token_for, bearer):
    assert_problem(bearer(token_for("frank")).patch("/api/v1/preferences/me/", {"colour_mode": "dark"}), 403)
    auditor = bearer(token_for("audrey", scope="write"))
    assert auditor.patch("/api/v1/preferences/me/", {"colour_mode": "light"}).status_code == 200
    assert UserPreference.objects.get(user__username="audrey").colour_mode == "light"


def test_preferences_need_a_signed_in_caller(db):
    from rest_framework.test import APIClient

    assert_problem(APIClient().get("/api/v1/preferences/me/"), 401)
    assert_problem(APIClient().patch("/api/v1/preferences/me/", {"colour_mode": "dark"}), 401)
