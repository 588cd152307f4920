"""Every configuration change records who, when and why — through the admin, the services and the commands."""

from __future__ import annotations

import pytest
from constance import config
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.models_history import latest_history
from navigation.models import MenuItem
from tenants import services
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db


def _page_form(page: Page, **changes: object) -> dict[str, object]:
    data = {
        "section": page.section_id,
        "title": page.title,
        "slug": page.slug,
        "body": page.body,
        "published": "on",
        "change_reason": "",
    }
    data.update(changes)
    return data


def test_admin_change_records_user_time_and_reason(demo, sign_in):
    fiona = sign_in("fiona")
    page = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    response = fiona.post(
        f"/admin/tenants/page/{page.pk}/change/", _page_form(page, title="Close calendar", change_reason="FIN-7")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = latest_history(page)
    assert entry.title == "Close calendar"
    assert entry.history_user.username == "fiona"
    assert entry.history_change_reason == "FIN-7"
    assert entry.history_type == "~" and entry.history_date is not None


def test_admin_change_without_a_reason_is_a_form_error(demo, sign_in):
    fiona = sign_in("fiona")
    page = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    response = fiona.post(f"/admin/tenants/page/{page.pk}/change/", _page_form(page, title="No reason"))
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    page.refresh_from_db()
    assert page.title == "Month-end calendar"


def test_admin_delete_records_who_deleted(demo, sign_in):
    fiona = sign_in("fiona")
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Editor guide")
    response = fiona.post(f"/admin/navigation/menuitem/{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = MenuItem.history.filter(id=item.pk).latest("history_date")
    assert entry.history_type == "-"
    assert entry.history_user.username == "fiona"
    assert entry.history_change_reason == "Deleted in the admin"


def test_admin_section_slug_cannot_be_changed_to_a_reserved_one(demo, sign_in):
    admin = sign_in("admin")
    finance = Section.objects.get(slug="finance")
    response = admin.post(
        f"/admin/tenants/section/{finance.pk}/change/",
        {
            "name": "Finance",
            "slug": "admin",
            "description": "",
            "status": "active",
            "navigation_layout": "both",
            "change_reason": "try",
        },
    )
    assert response.status_code == 200
    assert "reserved for the platform" in response.content.decode()
    assert Section.objects.filter(slug="finance").exists()


def test_service_change_records_actor_and_reason(demo):
    actor = get_user_model().objects.create_user("ops")
    finance = Section.objects.get(slug="finance")
    finance.description = "New words"
    services.save_section(finance, actor=actor, reason="Quarterly review")
    entry = latest_history(finance)
    assert (entry.history_user, entry.history_change_reason, entry.description) == (
        actor,
        "Quarterly review",
        "New words",
    )


def test_command_change_records_reason(db):
    call_command("onboard_section", "legal", "--name", "Legal", "--editors-group", "g", "--reason", "CHG-1")
    section = Section.objects.get(slug="legal")
    assert latest_history(section).history_change_reason == "CHG-1"
    home = Page.objects.all_sections().get(section=section, slug="home")
    assert latest_history(home).history_change_reason == "CHG-1"


def test_every_change_bumps_the_section_version(demo):
    finance = Section.objects.get(slug="finance")
    before = finance.config_version
    page = Page.objects.all_sections().get(section=finance, slug="month-end")
    page.body = "Changed"
    services.save_page(page, actor=None, reason="test")
    assert Section.objects.get(pk=finance.pk).config_version == before + 1
    hr = Section.objects.get(slug="hr")
    assert hr.config_version == Section.objects.get(slug="hr").config_version  # other sections untouched


def test_live_settings_keep_history_of_changes(sign_in, db):
    admin = sign_in("admin")
    response = admin.get("/admin/constance/config/")
    assert response.status_code == 200
    config.SUPPORT_EMAIL = "help@example.org"
    from constance.models import Constance

    row = Constance.objects.get(key="SUPPORT_EMAIL")
    assert row.history.count() >= 1
    assert "help@example.org" in str(row.history.latest("history_date").value)
