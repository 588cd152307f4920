"""The security-event browser (/audit/security/): filters, server-side paging, exports, per-user timelines and
who may open any of it."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from accounts.models import SecurityEvent
from audit.security_views import EVENT_COLUMNS
from core.security import EventType
from tenants import services
from tenants.models import Page

pytestmark = pytest.mark.django_db

BROWSER = "/audit/security/"
DATA = "/audit/security/data/"
ATTACKER_IP = "203.0.113.9"
FORMULA = '=HYPERLINK("http://evil.example","x")'


def _table(length: int = 10, start: int = 0, **extra: str) -> dict[str, str]:
    """A DataTables server-side request as components.js sends it (names of the server's columns), newest first."""
    params = {"draw": "4", "start": str(start), "length": str(length), "order[0][column]": "0", "order[0][dir]": "desc"}
    for index, column in enumerate(EVENT_COLUMNS):
        params[f"columns[{index}][data]"] = column.name
        params[f"columns[{index}][name]"] = column.name
    return {**params, **extra}


def _at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """A moment in January 2025, in the platform's time zone."""
    return timezone.make_aware(datetime(2025, 1, day, hour, minute, second))


def _event(created: datetime, event_type: str, **fields: Any) -> SecurityEvent:
    event = SecurityEvent.objects.create(event_type=event_type, **fields)
    # `created` is auto_now_add; set it afterwards to place the event on a known day.
    SecurityEvent.objects.filter(pk=event.pk).update(created=created)
    return event


@pytest.fixture
def clients(sign_in: Any, mariadb: None) -> dict[str, Client]:
    """Signed-in clients (each sign-in is itself an event, from 127.0.0.1, recorded today)."""
    return {name: sign_in(name) for name in ("audrey", "admin", "fiona", "frank")}


@pytest.fixture
def events(clients: dict[str, Client]) -> dict[str, Client]:
    """Known events in January 2025, plus a real failed sign-in by an unknown name from an outside address."""
    _event(_at(10, 0, 0, 0), EventType.SIGN_IN, username="frank", method="ldap", ip_address="10.0.0.5", reason="J10")
    _event(
        _at(11, 23, 59, 59),
        EventType.SECTION_DENIED,
        username="frank",
        success=False,
        reason="J11 late",
        ip_address="10.0.0.5",
        section_slug="hr",
        path="/s/hr/",
    )
    _event(
        _at(12, 0, 0, 0),
        EventType.MFA_FAILED,
        username="fiona",
        success=False,
        reason="J12 bad code",
        ip_address="10.0.0.6",
        method="totp",
        path="/accounts/mfa/",
    )
    _event(
        _at(13),
        EventType.EXPORT,
        username="audrey",
        reason="J13 export",
        section_slug="finance",
        detail={"rows": 3, "format": "csv"},
    )
    failed = Client(REMOTE_ADDR=ATTACKER_IP)
    response = failed.post("/accounts/login/", {"username": "mallory", "password": "guess"})
    assert response.status_code == 200  # the form again, with an error
    return clients


def _data(client: Client, **params: Any) -> Any:
    response = client.get(DATA, _table(**params))  # type: ignore[arg-type]
    assert response.status_code == 200, response.content
    return response.json()


def _streamed(response: Any) -> bytes:
    """The whole body of a streamed export, as the browser saves it."""
    assert response.streaming  # sent as it is read from the database, not built in memory first
    return b"".join(response.streaming_content)


def _reasons(body: dict[str, Any]) -> list[str]:
    return [row["reason"] for row in body["data"]]


# ---------------------------------------------------------------------------------------------------------------
# The table and its filters
# ---------------------------------------------------------------------------------------------------------------
def test_auditor_sees_every_event_newest_first(events: dict[str, Client]) -> None:
    body = _data(events["audrey"], length=100)
    assert body["draw"] == 4
    assert body["recordsTotal"] == body["recordsFiltered"] == SecurityEvent.objects.count()
    newest = body["data"][0]
    assert newest["type"] == "sign_in_failed" and newest["user"] == "mallory" and newest["outcome"] == "failure"
    assert (
        newest["ip"] == ATTACKER_IP and newest["path"] == "/accounts/login/" and newest["reason"] == "bad credentials"
    )
    # The January events come last, oldest at the bottom, with their time in the platform's time zone.
    assert _reasons(body)[-4:] == ["J13 export", "J12 bad code", "J11 late", "J10"]
    assert body["data"][-1]["when"] == "2025-01-10 00:00:00"
    assert body["data"][-2] | {"when": ""} == {
        "when": "",
        "user": "frank",
        "type": "section_denied",
        "outcome": "failure",
        "method": "",
        "ip": "10.0.0.5",
        "section": "hr",
        "reason": "J11 late",
        "path": "/s/hr/",
    }
    oldest_first = _data(events["audrey"], length=1, **{"order[0][dir]": "asc"})
    assert _reasons(oldest_first) == ["J10"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"user": "frank", "date_to": "2025-01-31"}, ["J11 late", "J10"]),
        ({"ip": "10.0.0.6"}, ["J12 bad code"]),
        ({"type": "mfa_failed"}, ["J12 bad code"]),
        ({"section": "finance"}, ["J13 export"]),
        ({"outcome": "failure", "date_to": "2025-01-31"}, ["J12 bad code", "J11 late"]),
        ({"outcome": "success", "date_to": "2025-01-31"}, ["J13 export", "J10"]),
        ({"user": "frank", "type": "sign_in", "ip": "10.0.0.5"}, ["J10"]),
    ],
)
def test_each_filter_selects_its_events(
    events: dict[str, Client], filters: dict[str, str], expected: list[str]
) -> None:
    body = _data(events["audrey"], **filters)
    assert _reasons(body) == expected
    assert body["recordsFiltered"] == len(expected)
    assert body["recordsTotal"] == SecurityEvent.objects.count()


def test_failed_sign_in_is_found_by_its_ip_address(events: dict[str, Client]) -> None:
    rows = _data(events["audrey"], ip=ATTACKER_IP)["data"]
    assert [(r["user"], r["type"], r["outcome"]) for r in rows] == [("mallory", "sign_in_failed", "failure")]
    # Everyone who signed in from the test client's address, and nobody else.
    local = _data(events["audrey"], ip="127.0.0.1", type="sign_in", length=100)["data"]
    assert sorted(r["user"] for r in local) == ["admin", "audrey", "fiona", "frank"]


def test_date_range_includes_both_whole_days(events: dict[str, Client]) -> None:
    client = events["audrey"]
    # Midnight at the start of the 10th and one second before midnight at the end of the 11th are both in.
    assert _reasons(_data(client, date_from="2025-01-10", date_to="2025-01-11")) == ["J11 late", "J10"]
    assert _reasons(_data(client, date_from="2025-01-11", date_to="2025-01-11")) == ["J11 late"]
    assert _reasons(_data(client, date_from="2025-01-12", date_to="2025-01-12")) == ["J12 bad code"]
    today = str(timezone.localdate())
    assert _data(client, date_from=today)["recordsFiltered"] == SecurityEvent.objects.count() - 4


def test_search_box_matches_user_reason_and_path(events: dict[str, Client]) -> None:
    client = events["audrey"]
    assert _reasons(_data(client, **{"search[value]": "bad code"})) == ["J12 bad code"]
    assert _reasons(_data(client, **{"search[value]": "/s/hr"})) == ["J11 late"]
    assert [r["user"] for r in _data(client, **{"search[value]": "mallo"})["data"]] == ["mallory"]
    # The search narrows the filters, never widens them.
    assert _data(client, user="fiona", **{"search[value]": "J11"})["recordsFiltered"] == 0


def test_pages_in_the_database(events: dict[str, Client]) -> None:
    client = events["audrey"]
    first = _data(client, length=3, date_to="2025-01-31")
    second = _data(client, length=3, start=3, date_to="2025-01-31")
    assert _reasons(first) == ["J13 export", "J12 bad code", "J11 late"] and _reasons(second) == ["J10"]
    assert first["recordsFiltered"] == second["recordsFiltered"] == 4
    assert first["recordsTotal"] == SecurityEvent.objects.count()
    assert _data(client, length=3, start=30, date_to="2025-01-31")["data"] == []


def test_event_types_offered_include_every_known_type_and_stored_ones(events: dict[str, Client]) -> None:
    _event(_at(14), "custom_probe", username="robot")
    html = events["audrey"].get(BROWSER).content.decode()
    for value in (EventType.SIGN_IN_FAILED, EventType.BREAK_GLASS, EventType.EXPORT, "custom_probe"):
        assert f'<option value="{value}"' in html
    assert _reasons(_data(events["audrey"], type="custom_probe")) == [""]


# ---------------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------------
BAD_FILTERS = [
    ({"ip": "999.1.1.1"}, "ip", "Enter a valid IPv4 or IPv6 address."),
    ({"date_from": "2025-02-30"}, "date_from", "Enter a valid date."),
    ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "date_to", "The end date is before the start date."),
    ({"type": "exploded"}, "type", "Select a valid choice."),
    ({"outcome": "maybe"}, "outcome", "Select a valid choice."),
    ({"section": "not a slug!"}, "section", "Enter a valid “slug”"),
]


@pytest.mark.parametrize(("params", "field", "message"), BAD_FILTERS)
def test_bad_filters_are_form_errors_on_the_page(
    events: dict[str, Client], params: dict[str, str], field: str, message: str
) -> None:
    response = events["audrey"].get(BROWSER, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "data-atrium-datatable" not in html  # no table of unfiltered events in place of the filtered ones


@pytest.mark.parametrize(("params", "field", "message"), BAD_FILTERS)
def test_bad_filters_are_400_problems_for_data_and_exports(
    events: dict[str, Client], params: dict[str, str], field: str, message: str
) -> None:
    client = events["audrey"]
    exports = SecurityEvent.objects.filter(event_type=EventType.EXPORT).count()
    for response in (client.get(DATA, _table(**params)), client.get(f"{BROWSER}export/csv/", params)):  # type: ignore[arg-type]
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 400 and [p["name"] for p in body["invalid_params"]] == [field]
        assert message in body["detail"]
    # A refused export exported nothing, so nothing is recorded.
    assert SecurityEvent.objects.filter(event_type=EventType.EXPORT).count() == exports


@pytest.mark.parametrize(
    "params",
    [{"length": "1000"}, {"start": "-1"}, {"order[0][column]": "1"}, {"columns[0][data]": "user"}],
)
def test_bad_table_requests_are_400_problems(events: dict[str, Client], params: dict[str, str]) -> None:
    response = events["audrey"].get(DATA, _table(**params))  # type: ignore[arg-type]
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


# ---------------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------------
def test_page_hands_its_filters_to_the_table_and_the_exports(events: dict[str, Client]) -> None:
    response = events["audrey"].get(BROWSER, {"user": "frank", "outcome": "failure", "page": "2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ajax-url="/audit/security/data/?user=frank&amp;outcome=failure"' in html
    for fmt in ("csv", "xlsx", "json"):
        assert f"/audit/security/export/{fmt}/?user=frank&amp;outcome=failure" in html
    assert 'data-user-url="/audit/security/users/USERNAME/"' in html
    assert "<script>" not in html and "style=" not in html  # strict CSP: no inline scripts or styles


def test_nothing_is_cached_and_head_works(events: dict[str, Client]) -> None:
    for url in (BROWSER, f"{BROWSER}users/frank/"):
        response = events["audrey"].get(url)
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        assert events["audrey"].head(url).status_code == 200
    assert "max-age=0" in events["audrey"].get(DATA, _table())["Cache-Control"]


# ---------------------------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------------------------
def _latest_export() -> SecurityEvent:
    return SecurityEvent.objects.filter(event_type=EventType.EXPORT).latest("created", "id")


def test_csv_export_holds_the_filtered_events_and_is_recorded(events: dict[str, Client]) -> None:
    response = events["audrey"].get(f"{BROWSER}export/csv/", {"user": "frank", "date_to": "2025-01-31"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="security-events-')
    rows = list(csv.DictReader(io.StringIO(_streamed(response).decode())))
    assert [r["reason"] for r in rows] == ["J11 late", "J10"]
    assert rows[0]["section"] == "hr" and rows[0]["outcome"] == "failure" and rows[0]["ip"] == "10.0.0.5"
    event = _latest_export()
    assert event.username == "audrey" and event.path == "/audit/security/export/csv/"
    assert event.detail == {"rows": 2, "format": "csv", "filters": "user=frank&date_to=2025-01-31"}


def test_json_export_keeps_details_as_objects(events: dict[str, Client]) -> None:
    response = events["audrey"].get(f"{BROWSER}export/json/", {"section": "finance"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(_streamed(response))
    assert [(r["reason"], r["detail"]) for r in data] == [("J13 export", {"rows": 3, "format": "csv"})]
    assert _latest_export().detail["rows"] == 1 and _latest_export().detail["format"] == "json"


def test_xlsx_export_holds_the_filtered_events(events: dict[str, Client]) -> None:
    response = events["audrey"].get(f"{BROWSER}export/xlsx/", {"outcome": "failure", "date_to": "2025-01-31"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    reason = rows[0].index("reason")
    assert [r[reason] for r in rows[1:]] == ["J12 bad code", "J11 late"]
    assert _latest_export().detail["rows"] == 2 and _latest_export().detail["format"] == "xlsx"


def test_unfiltered_export_count_matches_the_file(events: dict[str, Client]) -> None:
    before = SecurityEvent.objects.count()
    response = events["admin"].get(f"{BROWSER}export/json/")
    data = json.loads(_streamed(response))
    # The export's own event is recorded first but is not in the file, and the recorded count says so.
    assert len(data) == before == _latest_export().detail["rows"]
    assert SecurityEvent.objects.count() == before + 1
    assert events["admin"].get(f"{BROWSER}export/pdf/").status_code == 404


def test_exports_never_hand_a_spreadsheet_a_formula(events: dict[str, Client]) -> None:
    # Anyone can type a formula, or a control character, as the user name of a failed sign-in.
    Client(REMOTE_ADDR=ATTACKER_IP).post("/accounts/login/", {"username": FORMULA, "password": "x"})
    Client(REMOTE_ADDR=ATTACKER_IP).post("/accounts/login/", {"username": "-bell\x07", "password": "x"})
    client = events["audrey"]
    response = client.get(f"{BROWSER}export/csv/", {"type": "sign_in_failed", "ip": ATTACKER_IP})
    rows = list(csv.DictReader(io.StringIO(_streamed(response).decode())))
    assert [r["user"] for r in rows] == ["'-bell\x07", f"'{FORMULA}", "mallory"]
    response = client.get(f"{BROWSER}export/xlsx/", {"type": "sign_in_failed", "ip": ATTACKER_IP})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    users = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert users == ["'-bell", f"'{FORMULA}", "mallory"]


# ---------------------------------------------------------------------------------------------------------------
# One person's timeline
# ---------------------------------------------------------------------------------------------------------------
def test_user_timeline_shows_that_persons_events_only(events: dict[str, Client]) -> None:
    client = events["audrey"]
    response = client.get(f"{BROWSER}users/frank/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Timeline of frank" in html and "Frank Fowler" in html
    assert "3, of which 1 failed" in html  # today's sign-in, J10 and J11
    assert 'data-ajax-url="/audit/security/data/?user=frank"' in html
    rows = _data(client, user="frank", length=100)["data"]
    assert {r["user"] for r in rows} == {"frank"} and len(rows) == 3
    assert "/audit/security/export/csv/?user=frank" in html


def test_user_timeline_lists_the_persons_configuration_changes(demo: None, events: dict[str, Client]) -> None:
    fiona = get_user_model().objects.get(username="fiona")
    page = Page.objects.all_sections().filter(section__slug="finance").order_by("pk").first()
    assert page is not None
    page.title = "Renamed by fiona"
    services.save_page(page, actor=fiona, reason="FIN-7 rename")
    client = events["audrey"]
    html = client.get(f"{BROWSER}users/fiona/").content.decode()
    assert 'data-ajax-url="/audit/changes/data/?user=fiona"' in html
    assert "No configuration changes" not in html
    columns = ["when", "user", "section", "model", "object", "action", "reason", "history"]
    params = {"draw": "1", "start": "0", "length": "10"}
    params |= {f"columns[{i}][data]": name for i, name in enumerate(columns)}
    changes = client.get("/audit/changes/data/", {"user": "fiona", **params}).json()
    assert [(r["user"], r["reason"]) for r in changes["data"]] == [("fiona", "FIN-7 rename")]
    # frank changed nothing: his page says so instead of showing an empty table.
    assert "No configuration changes" in client.get(f"{BROWSER}users/frank/").content.decode()


def test_user_timeline_for_a_name_with_only_failed_sign_ins(events: dict[str, Client]) -> None:
    response = events["audrey"].get(f"{BROWSER}users/mallory/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No account has this name" in html and "1, of which 1 failed" in html
    # A name with a slash (typed at the sign-in form) has a timeline too.
    Client().post("/accounts/login/", {"username": "ou=people/eve", "password": "x"})
    assert events["audrey"].get(f"{BROWSER}users/ou%3Dpeople%2Feve/").status_code == 200


def test_user_timeline_is_404_for_a_name_nobody_has_used(events: dict[str, Client]) -> None:
    assert events["audrey"].get(f"{BROWSER}users/nobody/").status_code == 404
    # An account with no events at all (never signed in here) still has a page.
    get_user_model().objects.create_user(username="quiet")
    assert events["audrey"].get(f"{BROWSER}users/quiet/").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# Who may open it
# ---------------------------------------------------------------------------------------------------------------
URLS = (BROWSER, DATA, f"{BROWSER}export/csv/", f"{BROWSER}export/json/", f"{BROWSER}users/frank/")


def test_auditors_and_admins_may_open_every_page(events: dict[str, Client]) -> None:
    for name in ("audrey", "admin"):
        for url in URLS:
            response = events[name].get(url, _table() if url == DATA else {})
            assert response.status_code == 200, (name, url)


@pytest.mark.parametrize("name", ["fiona", "frank"])
def test_everyone_else_gets_404(events: dict[str, Client], name: str) -> None:
    for url in URLS:
        assert events[name].get(url, _table() if url == DATA else {}).status_code == 404, url
    assert events[name].get(f"{BROWSER}users/mallory/").status_code == 404
    assert not SecurityEvent.objects.filter(event_type=EventType.EXPORT, username=name).exists()


def test_anonymous_is_sent_to_sign_in_and_json_gets_401(events: dict[str, Client]) -> None:
    anonymous = Client()
    for url in (BROWSER, f"{BROWSER}export/csv/", f"{BROWSER}users/frank/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    response = anonymous.get(DATA, _table())
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_only_get_and_head(events: dict[str, Client]) -> None:
    for url in URLS:
        assert events["audrey"].post(url).status_code == 405, url
        assert events["audrey"].delete(url).status_code == 405, url
