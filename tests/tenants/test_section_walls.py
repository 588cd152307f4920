"""Sections are walls: every view that takes an id answers 404 for another section's object.

The cases are generated from one table of section-scoped models, so a new model added to SECTION_SCOPED_MODELS
gets every check; `test_every_section_scoped_model_is_covered` fails when a model is missing from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import models

from navigation.models import MenuItem, MenuItemGroup
from tenants.models import Page, Section, SectionRole, SectionScopedModel

pytestmark = pytest.mark.django_db


def _hr_page() -> Page:
    return Page.objects.all_sections().get(section__slug="hr", slug="policies")


def _hr_role() -> SectionRole:
    return SectionRole.objects.all_sections().filter(section__slug="hr").first()  # type: ignore[return-value]


def _hr_menu_item() -> MenuItem:
    return MenuItem.objects.all_sections().filter(section__slug="hr").first()  # type: ignore[return-value]


def _hr_menu_item_group() -> MenuItemGroup:
    hr = Section.objects.get(slug="hr")
    link = MenuItemGroup.objects.all_sections().filter(section=hr).first()
    if link is None:
        item = _hr_menu_item()
        link = MenuItemGroup.objects.create(section=hr, item=item, group=Group.objects.get(name="hr-staff"))
    return link


# model -> (how to get hr's object, public URLs that take its id)
SECTION_SCOPED_MODELS: dict[type[models.Model], tuple[Callable[[], Any], list[Callable[[Any], str]]]] = {
    Page: (_hr_page, [lambda o: f"/finance/pages/{o.pk}/", lambda o: f"/engineering/pages/{o.pk}/"]),
    SectionRole: (_hr_role, []),
    MenuItem: (_hr_menu_item, [lambda o: f"/admin/navigation/menuitem/{o.pk}/move/"]),
    MenuItemGroup: (_hr_menu_item_group, []),
}


def _admin_urls(obj: models.Model) -> list[str]:
    meta = obj._meta
    base = f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}"
    return [f"{base}/change/", f"{base}/delete/", f"{base}/history/"]


def test_every_section_scoped_model_is_covered():
    scoped = {m for m in apps.get_models() if issubclass(m, SectionScopedModel)}
    assert scoped == set(SECTION_SCOPED_MODELS), "add the new section-scoped model to SECTION_SCOPED_MODELS"


@pytest.mark.parametrize("model", list(SECTION_SCOPED_MODELS), ids=lambda m: m.__name__)
def test_finance_editor_gets_404_for_hr_objects_on_every_id_view(demo, sign_in, model):
    fiona = sign_in("fiona")
    get_object, public_urls = SECTION_SCOPED_MODELS[model]
    obj = get_object()
    assert obj is not None and obj.section.slug == "hr"
    for url in [*(u(obj) for u in public_urls), *_admin_urls(obj)]:
        response = fiona.get(url)
        assert response.status_code == 404, f"{url} answered {response.status_code}"


@pytest.mark.parametrize("model", list(SECTION_SCOPED_MODELS), ids=lambda m: m.__name__)
def test_finance_editor_cannot_post_changes_to_hr_objects(demo, sign_in, model):
    fiona = sign_in("fiona")
    obj = SECTION_SCOPED_MODELS[model][0]()
    before = model.objects.all_sections().filter(pk=obj.pk).values().get()
    base = f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}"
    assert fiona.post(f"{base}/change/", {"change_reason": "x"}).status_code == 404
    assert fiona.post(f"{base}/delete/", {"post": "yes"}).status_code == 404
    assert model.objects.all_sections().filter(pk=obj.pk).values().get() == before


def test_a_section_fiona_may_not_visit_refuses_before_looking_up_the_page(demo, sign_in):
    fiona = sign_in("fiona")
    # The same 403 for an existing and a missing page: the refusal does not reveal what exists inside hr.
    assert fiona.get(f"/hr/pages/{_hr_page().pk}/").status_code == 403
    assert fiona.get("/hr/pages/99999999/").status_code == 403


def test_finance_editor_gets_404_for_hr_section_in_admin(demo, sign_in):
    hr = Section.objects.get(slug="hr")
    fiona = sign_in("fiona")
    for url in _admin_urls(hr):
        assert fiona.get(url).status_code == 404, url


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "99999999999999999999", "1%20OR%201=1"])
def test_malformed_ids_are_404_in_admin(demo, sign_in, bad_id):
    fiona = sign_in("fiona")
    assert fiona.get(f"/admin/tenants/page/{bad_id}/change/").status_code == 404
    assert fiona.get(f"/admin/tenants/page/{bad_id}/history/").status_code == 404


def test_admin_lists_only_the_editors_sections_rows(demo, sign_in):
    fiona = sign_in("fiona")
    pages = fiona.get("/admin/tenants/page/").content.decode()
    assert "Month-end calendar" in pages and "Policies" not in pages
    sections = fiona.get("/admin/tenants/section/").content.decode()
    assert "Finance" in sections and ">HR<" not in sections
    menu = fiona.get("/admin/navigation/menuitem/").content.decode()
    assert "Editor guide" in menu and "On-call rota" not in menu


def test_section_choices_in_admin_forms_are_the_editors_only(demo, sign_in):
    fiona = sign_in("fiona")
    form = fiona.get("/admin/tenants/page/add/").content.decode()
    finance, hr = Section.objects.get(slug="finance"), Section.objects.get(slug="hr")
    assert f'value="{finance.pk}"' in form
    assert f'value="{hr.pk}"' not in form


def test_posting_another_sections_id_is_a_form_error_and_saves_nothing(demo, sign_in):
    fiona = sign_in("fiona")
    hr = Section.objects.get(slug="hr")
    count = Page.objects.all_sections().count()
    response = fiona.post(
        "/admin/tenants/page/add/",
        {"section": hr.pk, "title": "Sneaky", "slug": "sneaky", "body": "", "change_reason": "test"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Page.objects.all_sections().count() == count


def test_finance_editor_cannot_grant_roles_in_hr(demo, sign_in):
    fiona = sign_in("fiona")
    hr = Section.objects.get(slug="hr")
    group = Group.objects.get(name="finance-staff")
    response = fiona.post(
        "/admin/tenants/sectionrole/add/",
        {"section": hr.pk, "group": group.pk, "role": "editor", "change_reason": "test"},
    )
    assert response.status_code == 200
    assert not SectionRole.objects.all_sections().filter(section=hr, group=group).exists()


def test_viewer_without_edit_role_cannot_enter_the_admin(demo, sign_in):
    response = sign_in("frank").get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_auditor_reads_every_section_in_the_admin_and_changes_nothing(demo, sign_in):
    audrey = sign_in("audrey")
    hr_page = _hr_page()
    assert "Policies" in audrey.get("/admin/tenants/page/").content.decode()
    assert audrey.get(f"/admin/tenants/page/{hr_page.pk}/change/").status_code == 200  # read-only view
    assert audrey.get(f"/admin/tenants/page/{hr_page.pk}/history/").status_code == 200
    response = audrey.post(
        f"/admin/tenants/page/{hr_page.pk}/change/",
        {"section": hr_page.section_id, "title": "Changed", "slug": "policies", "change_reason": "x"},
    )
    assert response.status_code == 403
    assert audrey.get("/admin/tenants/page/add/").status_code == 403
    hr_page.refresh_from_db()
    assert hr_page.title == "Policies"
