"""Section and platform timelines: filters, server-side paging (DataTables protocol), exports and who may read."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent
from core.exports import xlsx_available
from navigation.models import MenuItem
from tenants import services
from tenants.models import Page

pytestmark = pytest.mark.django_db

FINANCE = "/audit/sections/finance/"
HR = "/audit/sections/hr/"


def _table(length: int = 10, start: int = 0, columns: int = 7, **extra: str) -> dict[str, str]:
    """A DataTables server-side request as components.js sends it (names of the server's columns)."""
    names = ["when", "user", "model", "object", "action", "reason", "history"]
    if columns == 8:
        names.insert(2, "section")
    params = {"draw": "3", "start": str(start), "length": str(length), "order[0][column]": "0", "order[0][dir]": "desc"}
    for index, name in enumerate(names):
        params[f"columns[{index}][data]"] = name
        params[f"columns[{index}][name]"] = name
    return {**params, **extra}


class _Clients(dict[str, Client]):
    """Signed-in clients, made on first use: signing in costs a request, and most tests need two users."""

    def __init__(self, sign_in: Any) -> None:
        super().__init__()
        self.sign_in = sign_in

    def __missing__(self, username: str) -> Client:
        self[username] = self.sign_in(username)
        return self[username]


@pytest.fixture
def edits(demo: None, sign_in: Any, mariadb: None) -> dict[str, Client]:
    """Three pages of finance changed by fiona, one menu item deleted; clients for the demo users."""
    clients = _Clients(sign_in)
    clients["fiona"]
    fiona = get_user_model().objects.get(username="fiona")
    for index, page in enumerate(Page.objects.all_sections().filter(section__slug="finance").order_by("pk")[:3]):
        page.title = f"Renamed {index}"
        services.save_page(page, actor=fiona, reason=f"FIN-{index} rename")
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Editor guide")
    services.delete_in_section(item, actor=fiona, reason="FIN-99 retire")
    return clients


def _data(client: Client, url: str, **params: str) -> Any:
    response = client.get(f"{url}data/", _table(**params))  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    return response.json()


def test_section_timeline_lists_changes_newest_first(edits: dict[str, Client]) -> None:
    body = _data(edits["fiona"], FINANCE)
    assert body["draw"] == 3
    first = body["data"][0]
    assert first["action"] == "deleted" and first["reason"] == "FIN-99 retire" and first["user"] == "fiona"
    assert first["history"].startswith("/audit/history/navigation/menuitem/")
    assert body["recordsTotal"] == body["recordsFiltered"] > 10  # the demo's own history rows are there too
    # Only finance: hr's rows never appear.
    all_rows = _data(edits["audrey"], FINANCE, length=100)["data"]
    assert all(r["history"] for r in all_rows)
    assert not any("hr" in r["object"].lower() and "human" in r["object"].lower() for r in all_rows)


def test_filters_by_user_model_action_and_date(edits: dict[str, Client]) -> None:
    client = edits["audrey"]
    by_fiona = _data(client, FINANCE, user="fiona")
    assert by_fiona["recordsFiltered"] == 4
    pages = _data(client, FINANCE, user="fiona", model="tenants.page")
    assert pages["recordsFiltered"] == 3 and {r["model"] for r in pages["data"]} == {"Page"}
    deleted = _data(client, FINANCE, action="deleted", model="navigation.menuitem")
    assert [r["reason"] for r in deleted["data"]] == ["FIN-99 retire"]
    # The item's group links went with it (a cascade): recorded as deletions too.
    assert _data(client, FINANCE, action="deleted")["recordsFiltered"] >= 1
    today = timezone.localdate()
    assert _data(client, FINANCE, user="fiona", date_from=str(today), date_to=str(today))["recordsFiltered"] == 4
    tomorrow = today + timedelta(days=1)
    assert _data(client, FINANCE, date_from=str(tomorrow))["recordsFiltered"] == 0
    assert _data(client, FINANCE, user="fiona", **{"search[value]": "FIN-1"})["recordsFiltered"] == 1


def test_pages_on_the_server(edits: dict[str, Client]) -> None:
    client = edits["audrey"]
    first = _data(client, FINANCE, user="fiona", length=3)
    second = _data(client, FINANCE, user="fiona", length=3, start=3)
    assert len(first["data"]) == 3 and len(second["data"]) == 1
    assert first["recordsFiltered"] == second["recordsFiltered"] == 4
    oldest_first = _data(client, FINANCE, user="fiona", length=3, **{"order[0][dir]": "asc"})
    assert oldest_first["data"][0]["reason"] == "FIN-0 rename"
    assert second["data"][0]["reason"] == "FIN-0 rename"


@pytest.mark.parametrize(
    "params",
    [
        {"model": "accounts.user"},
        {"date_from": "2025-13-45"},
        {"date_from": "2025-02-01", "date_to": "2025-01-01"},
        {"action": "exploded"},
        {"length": "1000"},
        {"start": "-1"},
        {"order[0][column]": "3"},
        {"columns[0][data]": "nope"},
    ],
)
def test_bad_input_is_a_400_problem(edits: dict[str, Client], params: dict[str, str]) -> None:
    response = edits["audrey"].get(f"{FINANCE}data/", _table(**params))  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_bad_filters_on_the_page_are_form_errors(edits: dict[str, Client]) -> None:
    response = edits["audrey"].get(FINANCE, {"date_from": "yesterday", "model": "auth.user"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid date." in html and "Select a valid choice." in html
    assert "data-atrium-datatable" not in html


def test_page_renders_the_table_with_filters_handed_on(edits: dict[str, Client]) -> None:
    response = edits["fiona"].get(FINANCE, {"user": "fiona", "action": "changed"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ajax-url="/audit/sections/finance/data/?user=fiona&amp;action=changed"' in html
    assert "/audit/sections/finance/export/csv/?user=fiona&amp;action=changed" in html
    assert "<script>" not in html and "style=" not in html


def test_exports_hold_the_filtered_rows_and_are_recorded(edits: dict[str, Client]) -> None:
    client = edits["audrey"]
    response = client.get(f"{FINANCE}export/csv/", {"user": "fiona", "model": "tenants.page"})
    assert response.status_code == 200 and response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[arg-type]
    assert sorted(r["reason"] for r in rows) == ["FIN-0 rename", "FIN-1 rename", "FIN-2 rename"]
    event = SecurityEvent.objects.filter(event_type="export").latest("created")
    assert event.username == "audrey" and event.detail["rows"] == 3 and event.detail["format"] == "csv"

    response = client.get(f"{FINANCE}export/json/", {"action": "deleted", "model": "navigation.menuitem"})
    data = json.loads(b"".join(response.streaming_content))  # type: ignore[arg-type]
    assert [r["reason"] for r in data] == ["FIN-99 retire"]
    assert SecurityEvent.objects.filter(event_type="export").count() == 2

    assert client.get(f"{FINANCE}export/pdf/").status_code == 404
    assert xlsx_available()  # openpyxl is in requirements/base.txt
    response = client.get(f"{FINANCE}export/xlsx/", {"user": "fiona", "model": "tenants.page"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    reason = rows[0].index("reason")
    assert sorted(str(r[reason]) for r in rows[1:]) == ["FIN-0 rename", "FIN-1 rename", "FIN-2 rename"]
    assert SecurityEvent.objects.filter(event_type="export").latest("created").detail["format"] == "xlsx"
    assert client.get(f"{FINANCE}export/csv/", {"date_to": "nope"}).status_code == 400
    assert SecurityEvent.objects.filter(event_type="export").count() == 3


def test_platform_timeline_is_for_auditors_and_admins(edits: dict[str, Client]) -> None:
    for name in ("audrey", "admin"):
        assert edits[name].get("/audit/changes/").status_code == 200
        body = _data(edits[name], "/audit/changes/", columns=8, length=100, model="tenants.section")
        assert {"finance", "hr", "engineering"} <= {r["section"] for r in body["data"]}
    themes = _data(edits["audrey"], "/audit/changes/", columns=8, model="themes.theme")
    assert all(r["section"] == "—" for r in themes["data"])
    for name in ("fiona", "frank", "hana"):
        assert edits[name].get("/audit/changes/").status_code == 404
        assert edits[name].get("/audit/changes/data/", _table(columns=8)).status_code == 404
        assert edits[name].get("/audit/changes/export/csv/").status_code == 404


def test_other_sections_are_404_never_403(edits: dict[str, Client]) -> None:
    fiona = edits["fiona"]
    assert fiona.get(FINANCE).status_code == 200
    assert fiona.get(HR).status_code == 404
    assert fiona.get(f"{HR}data/", _table()).status_code == 404
    assert fiona.get(f"{HR}export/csv/").status_code == 404
    frank = edits["frank"]
    assert frank.get(FINANCE).status_code == 404
    assert frank.get(f"{FINANCE}data/", _table()).status_code == 404
    assert edits["hana"].get(HR).status_code == 200
    assert edits["audrey"].get(HR).status_code == 200
    assert edits["audrey"].get("/audit/sections/no-such-section/").status_code == 404
    assert Client().get(f"{FINANCE}data/", _table()).status_code == 401
    assert SecurityEvent.objects.filter(event_type="export").count() == 0


@pytest.mark.parametrize("path", [FINANCE, f"{FINANCE}data/", f"{FINANCE}export/csv/", "/audit/changes/"])
def test_every_audit_url_is_read_only(edits: dict[str, Client], path: str) -> None:
    audrey = edits["audrey"]
    assert audrey.post(path).status_code == 405
    assert audrey.put(path).status_code == 405
    assert audrey.delete(path).status_code == 405


def test_menu_entry_for_auditors_and_admins_only(edits: dict[str, Client]) -> None:
    from core.registry import platform_menu

    edits["audrey"]
    users = get_user_model().objects
    labels = {name: [e.label for e in platform_menu(users.get(username=name))] for name in ("audrey", "fiona")}
    assert "Change history" in labels["audrey"] and "Change history" not in labels["fiona"]
