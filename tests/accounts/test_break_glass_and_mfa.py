"""Break-glass sign-in (password + TOTP, always alerted), TOTP step-up for MFA sections and the admin."""

from __future__ import annotations

import io
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import DirectorySource, SecurityEvent, User
from tenants.models import Section

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture
def break_glass_admin(db) -> User:
    stdin = io.StringIO(PASSWORD + "\n")
    import sys

    old, sys.stdin = sys.stdin, stdin
    try:
        call_command("create_break_glass_admin", "emergency", "--password-stdin", stdout=io.StringIO())
    finally:
        sys.stdin = old
    return User.objects.get(username="emergency")


def _code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key):06d}"


@override_settings(SECURITY_ALERT_EMAILS=["soc@example.com"])
def test_break_glass_needs_password_and_code_and_raises_an_alert(break_glass_admin):
    client = Client()
    response = client.post(
        "/accounts/break-glass/", {"username": "emergency", "password": PASSWORD, "token": _code(break_glass_admin)}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    event = SecurityEvent.objects.get(event_type="break_glass", success=True)
    assert event.username == "emergency" and event.method == "local"
    assert [m.to for m in mail.outbox] == [["soc@example.com"]]
    assert "Break-glass sign-in by emergency" in mail.outbox[0].subject


def test_break_glass_without_the_right_code_is_refused_and_recorded(break_glass_admin):
    response = Client().post(
        "/accounts/break-glass/", {"username": "emergency", "password": PASSWORD, "token": "000000"}
    )
    assert response.status_code == 200 and "not right" in response.content.decode()
    assert SecurityEvent.objects.filter(event_type="break_glass", success=False).exists()


def test_the_normal_form_never_signs_in_the_break_glass_account(break_glass_admin):
    response = Client().post("/accounts/login/", {"username": "emergency", "password": PASSWORD})
    assert response.status_code == 200 and "not right" in response.content.decode()


def test_directory_users_cannot_use_break_glass(demo, sign_in):
    sign_in("admin")  # a directory admin exists now, with an unusable password
    response = Client().post("/accounts/break-glass/", {"username": "admin", "password": "atrium-demo", "token": "1"})
    assert response.status_code == 200 and "not right" in response.content.decode()


def test_create_break_glass_admin_refuses_directory_names_and_weak_passwords(demo, sign_in):
    sign_in("fiona")
    with pytest.raises(CommandError, match="mock user"):
        call_command("create_break_glass_admin", "fiona", "--password-stdin")
    import sys

    old, sys.stdin = sys.stdin, io.StringIO("short\n")
    try:
        with pytest.raises(CommandError, match="too short"):
            call_command("create_break_glass_admin", "emergency2", "--password-stdin", stdout=io.StringIO())
    finally:
        sys.stdin = old
    assert not User.objects.filter(username="emergency2").exists()


def _enrol(client: Client, next_url: str) -> TOTPDevice:
    response = client.get(f"/accounts/mfa/setup/?next={next_url}")
    assert response.status_code == 200 and "data:image/svg+xml" in response.content.decode()
    return TOTPDevice.objects.get(confirmed=False)


def test_mfa_section_sends_a_directory_user_to_enrol_and_then_lets_them_in(demo, sign_in):
    Section.objects.filter(slug="finance").update(require_mfa=True)
    frank = sign_in("frank")
    response = frank.get("/finance/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?next=%2Ffinance%2F")
    assert frank.get(response["Location"])["Location"].startswith("/accounts/mfa/setup/")
    device = _enrol(frank, "/finance/")
    wrong = frank.post("/accounts/mfa/setup/", {"token": "123456", "next": "/finance/"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    time.sleep(1.1)  # django-otp throttles a device for a second after a wrong code
    ok = frank.post("/accounts/mfa/setup/", {"token": f"{totp(device.bin_key):06d}", "next": "/finance/"})
    assert ok.status_code == 302 and ok["Location"] == "/finance/"
    assert frank.get("/finance/").status_code == 200
    assert SecurityEvent.objects.filter(event_type="mfa_required", section_slug="finance").exists()
    assert SecurityEvent.objects.filter(event_type="mfa_passed", username="frank").exists()


def test_mfa_is_asked_again_in_a_new_session(demo, sign_in):
    Section.objects.filter(slug="finance").update(require_mfa=True)
    frank = sign_in("frank")
    device = _enrol(frank, "/finance/")
    frank.post("/accounts/mfa/setup/", {"token": f"{totp(device.bin_key):06d}", "next": "/finance/"})
    again = sign_in("frank")
    response = again.get("/finance/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?next=")
    bad = again.post("/accounts/mfa/", {"token": "not-a-code", "next": "/finance/"})
    assert bad.status_code == 200 and SecurityEvent.objects.filter(event_type="mfa_failed").exists()


@override_settings(ADMIN_REQUIRES_MFA=True)
def test_the_admin_requires_mfa_for_everyone_when_configured(demo, sign_in):
    fiona = sign_in("fiona")
    response = fiona.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?next=%2Fadmin%2F")


def test_mfa_next_parameter_cannot_leave_the_site(demo, sign_in):
    Section.objects.filter(slug="finance").update(require_mfa=True)
    frank = sign_in("frank")
    device = _enrol(frank, "https://evil.example.com/")
    ok = frank.post(
        "/accounts/mfa/setup/", {"token": f"{totp(device.bin_key):06d}", "next": "https://evil.example.com/"}
    )
    assert ok.status_code == 302 and not ok["Location"].startswith("https://evil")


def test_local_accounts_are_marked_as_such(break_glass_admin):
    assert break_glass_admin.source == DirectorySource.LOCAL and break_glass_admin.is_superuser
