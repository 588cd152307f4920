"""The sections and section-roles endpoints: the pages' permissions, writes through the services with history,
another section's objects as 404, and the list conventions (cursor pagination, ?fields=, ordering, filters)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tenants.models import Page, Section, SectionRole

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def _slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [section["slug"] for section in response.json()["results"]]


# ---------------------------------------------------------------------------------------------------------------
# Who reads what
# ---------------------------------------------------------------------------------------------------------------
def test_a_finance_editor_lists_finance_but_not_hr_and_hr_is_404(token_for, bearer):
    client = bearer(token_for("fiona"))
    assert _slugs(client.get("/api/v1/sections/")) == ["finance"]
    hr = Section.objects.get(slug="hr")
    assert_problem(client.get(f"/api/v1/sections/{hr.pk}/"), 404)
    hr_role = SectionRole.objects.all_sections().filter(section=hr).first()
    assert_problem(client.get(f"/api/v1/section-roles/{hr_role.pk}/"), 404)


def test_an_editor_cannot_change_or_revoke_anything_in_another_section(token_for, bearer):
    client = bearer(token_for("fiona", scope="write"))
    hr = Section.objects.get(slug="hr")
    hr_role = SectionRole.objects.all_sections().filter(section=hr).first()
    assert_problem(client.patch(f"/api/v1/sections/{hr.pk}/", {"description": "x"}), 404)
    assert_problem(client.delete(f"/api/v1/section-roles/{hr_role.pk}/"), 404)
    assert SectionRole.objects.all_sections().filter(pk=hr_role.pk).exists()


def test_a_viewer_reads_no_section_configuration(token_for, bearer):
    assert _slugs(bearer(token_for("frank")).get("/api/v1/sections/")) == []


def test_an_auditor_reads_everything_and_changes_nothing(token_for, bearer):
    client = bearer(token_for("audrey", scope="write"))
    assert sorted(_slugs(client.get("/api/v1/sections/"))) == ["engineering", "finance", "hr"]
    finance = Section.objects.get(slug="finance")
    role = SectionRole.objects.all_sections().filter(section=finance).first()
    onboard = {"slug": "legal", "name": "Legal", "editors_group": "legal-editors"}
    for response in (
        client.post("/api/v1/sections/", onboard),
        client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "audited"}),
        client.delete(f"/api/v1/section-roles/{role.pk}/"),
        client.post("/api/v1/section-roles/", {"section": finance.pk, "group": "hr-staff", "role": "viewer"}),
    ):
        assert "Auditors" in assert_problem(response, 403)["detail"]
    assert not Section.objects.filter(slug="legal").exists()
    assert SectionRole.objects.all_sections().filter(pk=role.pk).exists()
    # Security events are for auditors: readable through the API.
    assert client.get("/api/v1/security-events/").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# Writes go through the services and leave history
# ---------------------------------------------------------------------------------------------------------------
def test_a_platform_admin_onboards_a_section_with_history_and_its_reason(token_for, bearer):
    client = bearer(token_for("admin", scope="write"))
    response = client.post(
        "/api/v1/sections/",
        {
            "slug": "legal",
            "name": "Legal",
            "editors_group": "legal-editors",
            "viewers_group": "legal-staff",
            "reason": "Onboarding request ONB-42",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "legal" and response.json()["status"] == "active"
    legal = Section.objects.get(slug="legal")
    created = legal.history.earliest()
    assert created.history_user.username == "admin"
    assert created.history_change_reason == "Onboarding request ONB-42"
    roles = {(r.group.name, r.role) for r in SectionRole.objects.all_sections().filter(section=legal)}
    assert roles == {("legal-editors", "editor"), ("legal-staff", "viewer")}
    assert Page.objects.all_sections().filter(section=legal, slug="home").exists()


def test_onboarding_refuses_a_reserved_slug_on_its_field(token_for, bearer):
    response = bearer(token_for("admin", scope="write")).post(
        "/api/v1/sections/", {"slug": "api", "name": "API", "editors_group": "x"}
    )
    assert [p["name"] for p in assert_problem(response, 400)["invalid_params"]] == ["slug"]


def test_an_editor_cannot_onboard_sections(token_for, bearer):
    response = bearer(token_for("fiona", scope="write")).post(
        "/api/v1/sections/", {"slug": "legal", "name": "Legal", "editors_group": "legal-editors"}
    )
    assert_problem(response, 403)
    assert not Section.objects.filter(slug="legal").exists()


def test_an_editor_changes_their_section_with_a_recorded_reason(token_for, bearer):
    finance = Section.objects.get(slug="finance")
    before = finance.config_version
    response = bearer(token_for("fiona", scope="write")).patch(
        f"/api/v1/sections/{finance.pk}/", {"support_email": "finance-help@example.com", "reason": "New mailbox"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["support_email"] == "finance-help@example.com"
    finance.refresh_from_db()
    assert finance.support_email == "finance-help@example.com"
    assert finance.config_version > before  # cached pages and menus are rebuilt
    latest = finance.history.latest()
    assert latest.history_change_reason == "New mailbox" and latest.history_user.username == "fiona"


def test_an_editor_cannot_move_or_archive_their_section(token_for, bearer):
    finance = Section.objects.get(slug="finance")
    client = bearer(token_for("fiona", scope="write"))
    for change in ({"slug": "money"}, {"status": "archived"}, {"hostname": "finance.example.com"}):
        body = assert_problem(client.patch(f"/api/v1/sections/{finance.pk}/", change), 403)
        assert "platform admins" in body["detail"]
    finance.refresh_from_db()
    assert (finance.slug, finance.status, finance.hostname) == ("finance", "active", None)


def test_an_editor_grants_and_revokes_roles_in_their_section(token_for, bearer):
    client = bearer(token_for("fiona", scope="write"))
    finance = Section.objects.get(slug="finance")
    granted = client.post(
        "/api/v1/section-roles/", {"section": finance.pk, "group": "hr-staff", "role": "viewer", "reason": "ACC-77"}
    )
    assert granted.status_code == 201, granted.content
    role = SectionRole.objects.all_sections().get(pk=granted.json()["id"])
    assert (role.section, role.group.name, role.role) == (finance, "hr-staff", "viewer")
    assert role.history.latest().history_change_reason == "ACC-77"
    hr_staff = Group.objects.get(name="hr-staff")
    assert hr_staff.groupobjectpermission_set.filter(object_pk=str(finance.pk)).exists()
    assert client.delete(f"/api/v1/section-roles/{role.pk}/").status_code == 204
    assert not SectionRole.objects.all_sections().filter(pk=role.pk).exists()


# ---------------------------------------------------------------------------------------------------------------
# List conventions
# ---------------------------------------------------------------------------------------------------------------
def test_cursor_pagination_walks_every_section_once_by_following_next(token_for, bearer):
    client = bearer(token_for("admin"))
    seen, url = [], "/api/v1/sections/?limit=1"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 1
        seen += [s["slug"] for s in page["results"]]
        url = page["next"]
        assert url is None or url.startswith("http://testserver/api/v1/sections/?")
    assert seen == ["engineering", "finance", "hr"]  # by name, the default order


def test_a_page_size_beyond_the_maximum_is_a_400_problem(token_for, bearer):
    body = assert_problem(bearer(token_for("admin")).get("/api/v1/sections/?limit=100000"), 400)
    assert body["invalid_params"][0]["name"] == "limit"


def test_a_forged_cursor_is_refused(token_for, bearer):
    assert_problem(bearer(token_for("admin")).get("/api/v1/sections/?cursor=bm9wZQ"), 404)


def test_fields_trims_the_answer_to_the_fields_asked_for(token_for, bearer):
    client = bearer(token_for("admin"))
    results = client.get("/api/v1/sections/?fields=id,slug").json()["results"]
    assert results and all(set(section) == {"id", "slug"} for section in results)
    finance = Section.objects.get(slug="finance")
    assert client.get(f"/api/v1/sections/{finance.pk}/?fields=name").json() == {"name": "Finance"}


def test_an_unknown_field_is_a_400_problem_naming_it(token_for, bearer):
    body = assert_problem(bearer(token_for("admin")).get("/api/v1/sections/?fields=id,secret"), 400)
    assert body["invalid_params"][0]["name"] == "fields" and "secret" in body["invalid_params"][0]["reason"]


def test_ordering_and_filters_apply_and_an_unknown_ordering_is_refused(token_for, bearer):
    client = bearer(token_for("admin"))
    assert _slugs(client.get("/api/v1/sections/?ordering=-name")) == ["hr", "finance", "engineering"]
    assert _slugs(client.get("/api/v1/sections/?slug=hr")) == ["hr"]
    roles = client.get("/api/v1/section-roles/?section_slug=finance&role=viewer").json()["results"]
    assert [(r["section_slug"], r["group"]) for r in roles] == [("finance", "finance-staff")]
    body = assert_problem(client.get("/api/v1/sections/?ordering=config_version"), 400)
    assert body["invalid_params"][0]["name"] == "ordering"
    assert_problem(client.get("/api/v1/sections/?status=sleeping"), 400)
