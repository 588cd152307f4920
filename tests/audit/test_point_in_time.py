"""Point in time: a section's configuration as it was at a chosen moment, and reverting a section or one object."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent
from audit import pointintime
from core.security import EventType
from navigation import services as navigation_services
from navigation.models import MenuItem, MenuItemGroup
from tenants import services as tenant_services
from tenants.models import Page, Section, SectionRole

pytestmark = pytest.mark.django_db


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _item(label: str, section: str = "finance") -> MenuItem:
    return MenuItem.objects.all_sections().get(section__slug=section, label=label)


class _MenuMarkup(HTMLParser):
    """Collects the markup of the section's menus (top bar and side bar) exactly as the browser gets it."""

    MENUS = ("atrium-topbar", "atrium-sidenav")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth or (tag == "ul" and any(menu in classes for menu in self.MENUS)):
            self.depth += tag == "ul"
            self.parts.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.parts.append(f"</{tag}>")
            self.depth -= tag == "ul"

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def rendered_menu(client: Client, path: str = "/finance/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    parser = _MenuMarkup()
    parser.feed(response.content.decode())
    markup = "".join(parser.parts)
    assert "atrium-" in markup, "the page rendered no menu"
    return markup


def _as_of(client: Client, at: Any, slug: str = "finance") -> Any:
    return client.get(f"/audit/sections/{slug}/as-of/?at={quote(at.isoformat())}")


def _rename(label: str, new_label: str, url: str, reason: str) -> Any:
    item = _item(label)
    item.label, item.url, item.page = new_label, url, None
    navigation_services.save_menu_item(item, actor=_user("fiona"), reason=reason)
    return timezone.now()


def test_three_changes_each_earlier_moment_shown_and_revert_restores_the_first_menu_exactly(
    demo: None, sign_in: Any
) -> None:
    fiona = sign_in("fiona")
    first_menu = rendered_menu(fiona)
    first = timezone.now()
    second = _rename("Month-end calendar", "Close calendar", "https://close.example.com/", "FIN-1 external calendar")
    third = _rename("Close calendar", "Closing", "https://close.example.com/v2", "FIN-2 shorter")
    _rename("Closing", "Close", "https://close.example.com/v3", "FIN-3 shorter still")
    assert "Close</a>" in rendered_menu(fiona) or ">Close<" in rendered_menu(fiona)

    audrey = sign_in("audrey")
    for moment, label in ((first, "Month-end calendar"), (second, "Close calendar"), (third, "Closing")):
        html = _as_of(audrey, moment).content.decode()
        assert f"<strong>{label}</strong>" in html
    assert "Revert the whole section" not in _as_of(audrey, first).content.decode()  # auditors read only

    response = fiona.post("/audit/sections/finance/revert/", {"at": first.isoformat(), "reason": "FIN-4 back"})
    assert response.status_code == 302
    assert rendered_menu(fiona) == first_menu
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Month-end calendar")
    assert item.pk == _item("Month-end calendar").pk  # the same row, with one continuous history
    newest = item.history.order_by("-history_date").first()
    assert newest is not None and newest.history_change_reason.startswith("Reverted to ")
    assert "FIN-4 back" in newest.history_change_reason and newest.history_user == _user("fiona")
    assert SecurityEvent.objects.filter(event_type=EventType.CONFIG_REVERTED, username="fiona").count() == 1


def test_revert_restores_deleted_rows_with_their_ids_and_removes_later_additions(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    before_menu = rendered_menu(fiona)
    finance = Section.objects.get(slug="finance")
    policies = _item("Policies")
    policy_ids = {policies.pk, _item("Budget rules").pk, _item("Spending").pk, _item("Travel expenses").pk}
    links_before = set(MenuItemGroup.objects.all_sections().filter(section=finance).values_list("item_id", "group_id"))
    moment = timezone.now()
    navigation_services.delete_menu_item(policies, actor=_user("fiona"), reason="FIN-5 tidy")
    added = MenuItem(section=finance, label="New thing", url="https://new.example.com/")
    navigation_services.save_menu_item(added, actor=_user("fiona"), reason="FIN-6 add")
    finance.name = "Finance & Control"
    tenant_services.save_section(finance, actor=_user("fiona"), reason="FIN-7 rename")

    preview = fiona.get(f"/audit/sections/finance/as-of/?at={quote(moment.isoformat())}").content.decode()
    assert "Restore" in preview and "Delete" in preview and "Finance &amp; Control" in preview

    fiona.post("/audit/sections/finance/revert/", {"at": moment.isoformat(), "reason": "FIN-8 undo"})
    assert set(MenuItem.objects.all_sections().filter(pk__in=policy_ids).values_list("pk", flat=True)) == policy_ids
    assert not MenuItem.objects.all_sections().filter(label="New thing").exists()
    links_after = set(MenuItemGroup.objects.all_sections().filter(section=finance).values_list("item_id", "group_id"))
    assert links_after == links_before
    assert Section.objects.get(slug="finance").name == "Finance"
    assert rendered_menu(fiona) == before_menu


def test_reverting_to_now_changes_nothing(demo: None, sign_in: Any) -> None:
    finance = Section.objects.get(slug="finance")
    counts = {m: m.history.count() for m in (Section, MenuItem, MenuItemGroup, Page, SectionRole)}  # type: ignore[attr-defined]
    result = pointintime.revert_section(finance, timezone.now(), actor=_user_or_create("fiona"), reason="no-op")
    assert result.total == 0 and result.summary().startswith("no changes")
    assert {m: m.history.count() for m in counts} == counts  # type: ignore[attr-defined]


def _user_or_create(username: str) -> Any:
    return get_user_model().objects.get_or_create(username=username)[0]


def test_revert_refuses_when_a_group_it_needs_is_gone_and_changes_nothing(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    moment = timezone.now()
    item = _item("Editor guide")
    navigation_services.set_item_groups(item, [], actor=_user("fiona"), reason="FIN-9 open it")
    Group.objects.filter(name="finance-editors").update(name="finance-editors-old")  # renamed, still there
    temp = Group.objects.create(name="finance-temp")
    navigation_services.set_item_groups(item, [temp], actor=_user("fiona"), reason="FIN-10 temp group")
    moment_with_temp = timezone.now()
    navigation_services.set_item_groups(item, [], actor=_user("fiona"), reason="FIN-11 open again")
    temp.delete()
    admin = sign_in("admin")
    response = admin.post("/audit/sections/finance/revert/", {"at": moment_with_temp.isoformat(), "reason": "try"})
    assert response.status_code == 400
    assert "no longer exists" in response.content.decode()
    assert not MenuItemGroup.objects.all_sections().filter(item=item).exists()  # nothing half-done
    assert fiona.post("/audit/sections/finance/revert/", {"at": moment.isoformat(), "reason": "ok"}).status_code == 302
    assert MenuItemGroup.objects.all_sections().filter(item=item).count() == 1


def test_point_in_time_is_a_wall_between_sections(demo: None, sign_in: Any) -> None:
    moment = timezone.now()
    fiona = sign_in("fiona")
    assert _as_of(fiona, moment, "finance").status_code == 200
    assert _as_of(fiona, moment, "hr").status_code == 404
    assert fiona.post("/audit/sections/hr/revert/", {"at": moment.isoformat(), "reason": "x"}).status_code == 404
    assert sign_in("frank").get("/audit/sections/finance/as-of/").status_code == 404
    audrey = sign_in("audrey")
    assert _as_of(audrey, moment, "hr").status_code == 200
    response = audrey.post("/audit/sections/hr/revert/", {"at": moment.isoformat(), "reason": "x"})
    assert response.status_code == 403
    assert audrey.get("/audit/sections/hr/revert/").status_code == 405
    assert Client().get("/audit/sections/hr/as-of/").status_code == 302


@pytest.mark.parametrize(
    "query",
    ["at=yesterday", "at=2026-13-40T10:00", "at=" + quote("2999-01-01T00:00:00+00:00")],
)
def test_a_bad_moment_is_a_form_error(demo: None, sign_in: Any, query: str) -> None:
    response = sign_in("fiona").get(f"/audit/sections/finance/as-of/?{query}")
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode() or "is-invalid" in response.content.decode()


def test_revert_without_a_reason_is_refused(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    moment = timezone.now() - timedelta(seconds=1)
    response = fiona.post("/audit/sections/finance/revert/", {"at": moment.isoformat(), "reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_before_the_section_existed_there_is_nothing_to_show_or_revert(demo: None, sign_in: Any) -> None:
    long_ago = Section.objects.get(slug="finance").history.earliest("history_date").history_date - timedelta(days=1)  # type: ignore[attr-defined]
    fiona = sign_in("fiona")
    assert "did not exist" in _as_of(fiona, long_ago).content.decode()
    response = fiona.post("/audit/sections/finance/revert/", {"at": long_ago.isoformat(), "reason": "x"})
    assert response.status_code == 400 and "did not exist" in response.content.decode()
    assert Section.objects.filter(slug="finance").exists()


def _history_url(obj: Any) -> str:
    return f"/audit/history/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/"


def test_one_object_reverted_to_an_earlier_version(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    page = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    original = page.title
    page.title = "Close calendar"
    tenant_services.save_page(page, actor=_user("fiona"), reason="FIN-12")
    other = _item("Home")
    other.label = "Start"
    navigation_services.save_menu_item(other, actor=_user("fiona"), reason="FIN-13")
    first_version = page.history.order_by("history_date").first()  # type: ignore[attr-defined]
    html = fiona.get(_history_url(page)).content.decode()
    assert "Revert to this version" in html
    response = fiona.post(
        _history_url(page) + "revert/", {"version": first_version.history_id, "reason": "FIN-14 undo title"}
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.title == original
    assert _item("Start").pk == other.pk  # the rest of the section is untouched
    assert "FIN-14 undo title" in page.history.latest("history_date").history_change_reason  # type: ignore[attr-defined]


def test_object_revert_refuses_auditors_other_sections_and_foreign_versions(demo: None, sign_in: Any) -> None:
    page = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    hr_page = Page.objects.all_sections().get(section__slug="hr", slug="policies")
    version = page.history.earliest("history_date").history_id  # type: ignore[attr-defined]
    hr_version = hr_page.history.earliest("history_date").history_id  # type: ignore[attr-defined]
    audrey = sign_in("audrey")
    assert "Revert to this version" not in audrey.get(_history_url(page)).content.decode()
    assert audrey.post(_history_url(page) + "revert/", {"version": version, "reason": "x"}).status_code == 403
    fiona = sign_in("fiona")
    assert fiona.post(_history_url(hr_page) + "revert/", {"version": hr_version, "reason": "x"}).status_code == 404
    # A version id from another object (here another section's) is refused, not applied to this one.
    response = fiona.post(_history_url(page) + "revert/", {"version": hr_version, "reason": "x"}, follow=True)
    assert "does not belong to this object" in response.content.decode()
    page.refresh_from_db()
    assert page.title == "Month-end calendar"
    response = fiona.post(_history_url(page) + "revert/", {"version": "abc", "reason": "x"}, follow=True)
    assert "Not reverted" in response.content.decode()
