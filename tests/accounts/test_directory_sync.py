"""`manage.py sync_directory` with the mock directory: groups and attributes refreshed, leavers deactivated.

The LDAP side of the same service is tested against a real slapd in test_ldap.py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from accounts.directory_sync import sync_directory
from accounts.models import DirectorySource, SecurityEvent, User
from core.security import EventType
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory_file(tmp_path: Path) -> Any:
    """A copy of fixtures/directory.yaml the test may edit; `write(data)` saves it so the next read sees it."""
    path = tmp_path / "directory.yaml"
    data = yaml.safe_load(Path("fixtures/directory.yaml").read_text())

    def write(new: dict[str, Any]) -> None:
        path.write_text(yaml.safe_dump(new))
        stat = path.stat()
        os.utime(path, (stat.st_atime, stat.st_mtime + 10))  # a new mtime, so the mock directory re-reads it

    write(data)
    with override_settings(MOCK_DIRECTORY_FILE=path):
        yield data, write


def sign_in(username: str) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD}).status_code == 302
    return client


def groups_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_sync_applies_the_directory_file_and_deactivates_leavers(directory_file):
    data, write = directory_file
    for username in ("fiona", "frank", "hana", "admin"):
        sign_in(username)
    User.objects.get(username="fiona").groups.add(Group.objects.create(name="local-project"))
    local = User.objects.create_user("emergency", password="x" * 20, source=DirectorySource.LOCAL, is_superuser=True)
    data["users"]["fiona"]["groups"] = ["finance-staff"]
    data["users"]["fiona"]["title"] = "Finance lead"
    data["users"]["admin"]["groups"] = []
    del data["users"]["frank"]
    data["users"]["hana"]["disabled"] = True
    write(data)

    out = io.StringIO()
    call_command("sync_directory", stdout=out)

    assert groups_of("fiona") == {"finance-staff", "local-project"}
    assert User.objects.get(username="fiona").title == "Finance lead"
    assert not User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="frank").is_active and not User.objects.get(username="hana").is_active
    local.refresh_from_db()
    assert local.is_active and local.is_superuser and local.source == "local"
    summary = out.getvalue()
    assert "Directory sync (mock): 4 users checked, 2 updated, 2 deactivated." in summary
    assert "fiona: groups removed: finance-editors; title: 'Finance portal editor' → 'Finance lead'" in summary
    assert "frank: deactivated (no longer in the directory)" in summary
    event = SecurityEvent.objects.get(event_type=EventType.DIRECTORY_SYNC)
    assert event.success and event.method == "mock"
    assert (event.detail["checked"], event.detail["updated"], event.detail["deactivated"]) == (4, 2, 2)
    assert {"username": "frank", "deactivated": True} in event.detail["changes"]
    assert set(
        SecurityEvent.objects.filter(event_type=EventType.USER_DEACTIVATED).values_list("username", flat=True)
    ) == {"frank", "hana"}


def test_a_sync_with_nothing_to_change_reports_no_changes(directory_file):
    sign_in("fiona")
    report = sync_directory()
    assert report.ok and report.checked == 1 and report.changes == []
    assert "1 users checked, 0 updated, 0 deactivated" in report.summary()


def test_an_unreadable_directory_file_changes_nothing_and_fails_the_command(directory_file, tmp_path):
    sign_in("fiona")
    (tmp_path / "directory.yaml").write_text("users: [unclosed")
    os.utime(tmp_path / "directory.yaml", (1, 2))
    out = io.StringIO()
    with pytest.raises(CommandError, match="Directory sync failed"):
        call_command("sync_directory", stdout=out)
    assert "Nobody was deactivated" in out.getvalue()
    assert User.objects.get(username="fiona").is_active
    assert groups_of("fiona") == {"finance-editors", "finance-staff"}
    event = SecurityEvent.objects.get(event_type=EventType.DIRECTORY_SYNC)
    assert not event.success and event.detail["error"]


def test_a_directory_that_lists_nobody_deactivates_nobody(directory_file):
    data, write = directory_file
    sign_in("fiona")
    sign_in("frank")
    write({"groups": data["groups"], "users": {"someone-else": {"password": "x"}}})
    report = sync_directory()
    assert not report.ok and "none of the 2 users" in report.error
    assert User.objects.filter(is_active=True, source="mock").count() == 2


def test_a_group_dropped_from_the_directory_is_taken_away_and_local_groups_stay(directory_file):
    """A group the directory no longer lists at all is still the directory's: its members lose it at the next sync."""
    data, write = directory_file
    data["groups"]["finance-bank-details"] = "See bank details in finance reports"
    data["users"]["fiona"]["groups"].append("finance-bank-details")
    write(data)
    sign_in("fiona")
    User.objects.get(username="fiona").groups.add(Group.objects.create(name="local-project"))
    assert "finance-bank-details" in groups_of("fiona")

    del data["groups"]["finance-bank-details"]
    data["users"]["fiona"]["groups"].remove("finance-bank-details")
    write(data)
    call_command("sync_directory", stdout=io.StringIO())

    assert groups_of("fiona") == {"finance-editors", "finance-staff", "local-project"}
    sign_in("fiona")  # signing in again mirrors the same way
    assert groups_of("fiona") == {"finance-editors", "finance-staff", "local-project"}
