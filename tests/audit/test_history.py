"""Per-object history: versions with who, when, why, and old → new values; deletions; 404 outside one's reach."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from audit.queries import history_models
from navigation.models import MenuItem
from tenants import services
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _page(section: str, slug: str) -> Page:
    return Page.objects.all_sections().get(section__slug=section, slug=slug)


def _url(obj: Any) -> str:
    return f"/audit/history/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/"


def test_history_models_come_from_the_registry() -> None:
    keys = {hm.key for hm in history_models()}
    expected = {"tenants.section", "tenants.sectionrole", "tenants.page", "navigation.menuitem"}
    assert expected | {"navigation.menuitemgroup", "themes.theme", "constance.constance"} <= keys
    assert "auth.user" not in keys


def test_a_change_shows_old_and_new_values_with_who_and_why(demo: None, sign_in: Any) -> None:
    sign_in("fiona")  # the mock directory creates the user at first sign-in
    page = _page("finance", "month-end")
    page.title = "Close calendar"
    services.save_page(page, actor=_user("fiona"), reason="FIN-42 rename")
    response = sign_in("audrey").get(_url(page))
    assert response.status_code == 200
    html = response.content.decode()
    assert "FIN-42 rename" in html and "fiona" in html
    assert '<del class="text-danger-emphasis">Month-end calendar</del>' in html
    assert '<ins class="text-success-emphasis">Close calendar</ins>' in html
    assert "Changed" in html and "Created" in html


def test_a_deletion_appears_with_its_reason(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Editor guide")
    url = _url(item)  # before the deletion clears its pk
    services.delete_in_section(item, actor=_user("fiona"), reason="FIN-9 retire the guide")
    response = fiona.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Deleted" in html and "FIN-9 retire the guide" in html and "no longer exists" in html


def test_editors_read_their_own_section_only(demo: None, sign_in: Any) -> None:
    hr_page = _page("hr", "policies")
    finance_page = _page("finance", "month-end")
    fiona = sign_in("fiona")
    assert fiona.get(_url(finance_page)).status_code == 200
    assert fiona.get(_url(hr_page)).status_code == 404
    assert fiona.get(_url(Section.objects.get(slug="hr"))).status_code == 404
    assert sign_in("frank").get(_url(finance_page)).status_code == 404
    assert sign_in("audrey").get(_url(hr_page)).status_code == 200
    assert sign_in("admin").get(_url(hr_page)).status_code == 200


def test_section_history_shows_many_to_many_changes(demo: None, sign_in: Any) -> None:
    audrey = sign_in("audrey")
    finance = Section.objects.get(slug="finance")
    finance.description = "Money matters"
    services.save_section(finance, actor=_user("audrey"), reason="FIN-1 describe")
    finance.owners.add(_user("audrey"))
    services.save_section(finance, actor=_user("audrey"), reason="FIN-2 owner")
    html = audrey.get(_url(finance)).content.decode()
    assert "Money matters" in html and "FIN-2 owner" in html and "Owners" in html


def test_platform_tables_are_for_auditors_and_admins(demo: None, sign_in: Any) -> None:
    from themes.models import Theme
    from themes.services import save_theme

    theme = Theme.objects.first()
    assert theme is not None
    save_theme(theme, actor=None, reason="touch")  # themes made by a migration have no history row yet
    assert sign_in("fiona").get(_url(theme)).status_code == 404
    assert sign_in("audrey").get(_url(theme)).status_code == 200


def test_models_without_history_and_unknown_objects_are_404(demo: None, sign_in: Any) -> None:
    audrey = sign_in("audrey")
    user = _user("audrey")  # after sign-in, which creates the user
    assert audrey.get(f"/audit/history/accounts/user/{user.pk}/").status_code == 404
    assert audrey.get("/audit/history/tenants/page/999999/").status_code == 404
    assert audrey.get("/audit/history/nothing/here/1/").status_code == 404


def test_history_is_read_only(demo: None, sign_in: Any) -> None:
    audrey = sign_in("audrey")
    url = _url(_page("finance", "month-end"))
    assert audrey.post(url).status_code == 405
    assert audrey.put(url).status_code == 405
    assert audrey.delete(url).status_code == 405
