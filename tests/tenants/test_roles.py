"""Section roles: granting a group a role through the admin gives its members access; revoking takes it away."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tenants import services
from tenants.models import Section, SectionRole

pytestmark = pytest.mark.django_db


def test_platform_admin_grants_and_revokes_a_viewer_role_in_the_admin(demo, sign_in):
    frank = sign_in("frank")
    assert frank.get("/hr/").status_code == 403
    hr, staff = Section.objects.get(slug="hr"), Group.objects.get(name="finance-staff")
    admin = sign_in("admin")
    response = admin.post(
        "/admin/tenants/sectionrole/add/",
        {"section": hr.pk, "group": staff.pk, "role": "viewer", "change_reason": "Shared services"},
    )
    assert response.status_code == 302
    assert frank.get("/hr/").status_code == 200
    role = SectionRole.objects.all_sections().get(section=hr, group=staff)
    assert role.history.latest("history_date").history_user.username == "admin"
    assert admin.post(f"/admin/tenants/sectionrole/{role.pk}/delete/", {"post": "yes"}).status_code == 302
    assert frank.get("/hr/").status_code == 403


def test_an_editor_group_may_edit_and_visit(demo, sign_in):
    hr = Section.objects.get(slug="hr")
    group = Group.objects.get(name="finance-staff")
    services.grant_section_role(hr, group, "editor", actor=None, reason="test")
    frank = sign_in("frank")
    assert frank.get("/hr/").status_code == 200
    assert frank.get("/admin/tenants/page/").status_code == 200
    assert "Policies" in frank.get("/admin/tenants/page/").content.decode()


def test_removing_all_viewer_roles_opens_the_section_to_everyone(demo, sign_in):
    hr = Section.objects.get(slug="hr")
    for role in SectionRole.objects.all_sections().filter(section=hr, role="viewer"):
        services.revoke_section_role(role, actor=None, reason="open up")
    assert sign_in("frank").get("/hr/").status_code == 200
