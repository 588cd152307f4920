"""Security events: each kind is stored with who, what, where from, and written to the security log stream."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client, RequestFactory, override_settings

from accounts.models import SecurityEvent
from core.net import client_ip

pytestmark = pytest.mark.django_db


def _events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type))


def test_sign_in_and_sign_out_are_recorded_with_method_ip_agent_and_request_id(demo):
    client = Client(HTTP_USER_AGENT="pytest-browser/1.0", REMOTE_ADDR="10.1.2.3")
    client.post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"}, HTTP_X_REQUEST_ID="req-signin-1")
    event = _events("sign_in")[0]
    assert (event.username, event.method, event.success) == ("fiona", "mock", True)
    assert (event.ip_address, event.user_agent, event.request_id) == ("10.1.2.3", "pytest-browser/1.0", "req-signin-1")
    client.post("/accounts/logout/")
    assert _events("sign_out")[0].username == "fiona"


def test_failed_sign_in_records_the_attempted_username_and_reason(db):
    Client().post("/accounts/login/", {"username": "mallory", "password": "guess"})
    event = _events("sign_in_failed")[0]
    assert (event.username, event.success, event.reason) == ("mallory", False, "bad credentials")


def test_lockout_is_recorded(db):
    client = Client()
    for _ in range(6):
        client.post("/accounts/login/", {"username": "frank", "password": "wrong"})
    assert _events("locked_out")
    assert _events("locked_out")[0].username == "frank"


def test_section_denial_and_403_are_recorded_with_the_section(demo, sign_in):
    sign_in("fiona").get("/hr/")
    denied = _events("section_denied")[0]
    assert (denied.username, denied.section_slug, denied.success) == ("fiona", "hr", False)
    assert _events("permission_denied")[0].path == "/hr/"


def test_platform_admin_and_auditor_grants_are_recorded(db, sign_in):
    sign_in("admin")
    sign_in("audrey")
    assert _events("admin_granted")[0].username == "admin"
    assert _events("auditor_granted")[0].username == "audrey"


def test_security_log_stream_is_json_lines(db, caplog):
    with caplog.at_level(logging.INFO, logger="atrium.security"):
        Client().post("/accounts/login/", {"username": "mallory", "password": "guess"})
    records = [r for r in caplog.records if r.name == "atrium.security"]
    assert records and records[-1].event == "sign_in_failed" and records[-1].user == "mallory"
    handler = logging.getLogger("atrium.security").handlers[0]
    line = json.loads(handler.formatter.format(records[-1]))
    assert line["event"] == "sign_in_failed" and line["level"] == "WARNING" and line["logger"] == "atrium.security"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_client_ip_trusts_forwarded_for_only_from_configured_proxies():
    factory = RequestFactory()
    behind_proxies = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.7")
    assert client_ip(behind_proxies) == "203.0.113.9"
    direct = factory.get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(direct) == "198.51.100.4"  # a client cannot claim another address
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(garbage) == "10.0.0.5"


def test_a_platform_admin_unlocks_a_locked_account_in_the_admin(db, sign_in):
    locked = Client()
    for _ in range(5):
        locked.post("/accounts/login/", {"username": "frank", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert locked.post("/accounts/login/", {"username": "frank", "password": "atrium-demo"}).status_code == 429
    from axes.models import AccessAttempt

    admin = sign_in("admin")
    attempts = list(AccessAttempt.objects.filter(username="frank").values_list("pk", flat=True))
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert Client().post("/accounts/login/", {"username": "frank", "password": "atrium-demo"}).status_code == 302


def test_auditors_read_security_events_in_the_admin_and_editors_do_not(demo, sign_in):
    Client().post("/accounts/login/", {"username": "mallory", "password": "guess"})
    audrey = sign_in("audrey")
    listing = audrey.get("/admin/accounts/securityevent/")
    assert listing.status_code == 200 and "mallory" in listing.content.decode()
    event = SecurityEvent.objects.filter(username="mallory").first()
    assert audrey.post(f"/admin/accounts/securityevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()
    assert sign_in("fiona").get("/admin/accounts/securityevent/").status_code == 403
