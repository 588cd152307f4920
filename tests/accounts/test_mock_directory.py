"""The mock directory signs people in like LDAP will: attributes, group mirroring, flags, local groups kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_sign_in_maps_attributes_and_mirrors_groups(sign_in):
    sign_in("fiona")
    fiona = get_user_model().objects.get(username="fiona")
    assert (fiona.first_name, fiona.last_name, fiona.email) == ("Fiona", "Fischer", "fiona@example.com")
    assert (fiona.department, fiona.title, fiona.source) == ("Finance", "Finance portal editor", "mock")
    assert set(fiona.groups.values_list("name", flat=True)) == {"finance-editors", "finance-staff"}
    assert not fiona.is_superuser and not fiona.has_usable_password()


def test_admin_and_auditor_flags_follow_groups(sign_in):
    sign_in("admin")
    sign_in("audrey")
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    audrey = users.get(username="audrey")
    assert not audrey.is_superuser and audrey.is_auditor


@pytest.mark.parametrize(
    ("username", "password"),
    [("fiona", "wrong"), ("nobody", "atrium-demo"), ("x" * 151, "atrium-demo"), ("*)(uid=*", "atrium-demo"), ("", "")],
)
def test_bad_credentials_get_the_form_error_not_a_500(db, username, password):
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 200
    text = response.content.decode()
    assert "not right" in text or "This field is required" in text or "at most 150" in text


def test_membership_changes_in_the_directory_apply_at_next_sign_in_and_local_groups_stay(tmp_path: Path, db):
    source = yaml.safe_load(Path("fixtures/directory.yaml").read_text())
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump(source))
    local = Group.objects.create(name="local-project-team")
    with override_settings(MOCK_DIRECTORY_FILE=directory):
        Client().post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
        fiona = get_user_model().objects.get(username="fiona")
        fiona.groups.add(local)
        source["users"]["fiona"]["groups"] = ["finance-staff"]
        directory.write_text(yaml.safe_dump(source))
        import os

        os.utime(directory, (1, 2))  # a different mtime, so the directory re-reads the file
        Client().post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
    assert set(fiona.groups.values_list("name", flat=True)) == {"finance-staff", "local-project-team"}


def test_disabled_directory_user_cannot_sign_in(tmp_path: Path, db):
    source = yaml.safe_load(Path("fixtures/directory.yaml").read_text())
    source["users"]["frank"]["disabled"] = True
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump(source))
    with override_settings(MOCK_DIRECTORY_FILE=directory):
        response = Client().post("/accounts/login/", {"username": "frank", "password": "atrium-demo"})
    assert response.status_code == 200 and "not right" in response.content.decode()


def test_sign_out_ends_the_session_on_the_server(demo, sign_in):
    fiona = sign_in("fiona")
    session_key = fiona.session.session_key
    from django.contrib.sessions.models import Session

    assert Session.objects.filter(session_key=session_key).exists()
    assert fiona.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    assert fiona.get("/finance/").status_code == 302


def test_repeated_failures_lock_the_account_with_a_clear_message(db):
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "frank", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "frank", "password": "atrium-demo"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
