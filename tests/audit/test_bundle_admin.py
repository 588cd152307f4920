"""Section bundles from the admin: the download is the same bundle as the command, and import is dry run first."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from accounts.models import SecurityEvent
from audit.bundles import checksum, export_section
from core.security import EventType
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/tenants/section/import-bundle/"


def _export_url(slug: str) -> str:
    return f"/admin/tenants/section/{Section.objects.get(slug=slug).pk}/bundle/"


def _without_origin_time(bundle: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bundle.items() if k not in ("origin", "checksum")}


def _upload(client: Client, bundle: dict[str, Any] | bytes, **extra: Any) -> Any:
    content = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile("b.json", content), **extra})


def test_the_admin_download_is_the_command_s_bundle_and_is_logged(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    response = fiona.get(_export_url("finance"))
    assert response.status_code == 200
    assert 'filename="section-finance-' in response["Content-Disposition"]
    downloaded = json.loads(response.content)
    out = io.StringIO()
    call_command("export_section", "finance", stdout=out)
    assert _without_origin_time(downloaded) == _without_origin_time(json.loads(out.getvalue()))
    assert downloaded["checksum"] == checksum(downloaded)
    event = SecurityEvent.objects.get(event_type=EventType.EXPORT, username="fiona")
    assert event.section_slug == "finance" and event.reason == "section bundle"
    change_page = fiona.get(f"/admin/tenants/section/{Section.objects.get(slug='finance').pk}/change/")
    assert _export_url("finance") in change_page.content.decode()


def test_the_download_is_a_wall_between_sections(demo: None, sign_in: Any) -> None:
    fiona = sign_in("fiona")
    assert fiona.get(_export_url("hr")).status_code == 404
    assert fiona.post(_export_url("finance")).status_code == 405
    assert sign_in("audrey").get(_export_url("hr")).status_code == 200  # auditors read everything
    assert Client().get(_export_url("finance")).status_code == 302  # to the admin's sign-in


def test_import_shows_the_dry_run_then_applies_on_confirmation(demo: None, sign_in: Any) -> None:
    bundle = export_section(Section.objects.get(slug="finance"))
    bundle["pages"][0]["title"] = "Renamed in UAT"
    bundle["checksum"] = checksum(bundle)
    fiona = sign_in("fiona")
    title_before = Page.objects.all_sections().get(section__slug="finance", slug=bundle["pages"][0]["slug"]).title

    preview = _upload(fiona, bundle)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Dry run: 0 to create, 1 to change, 0 to delete" in html
    assert "Renamed in UAT" in html
    page = Page.objects.all_sections().get(section__slug="finance", slug=bundle["pages"][0]["slug"])
    assert page.title == title_before  # nothing changed by the dry run

    response = fiona.post(IMPORT_URL, {"bundle": json.dumps(bundle), "create": ""})
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.title == "Renamed in UAT"
    assert "Imported bundle from" in page.history.latest("history_date").history_change_reason  # type: ignore[attr-defined]
    assert SecurityEvent.objects.filter(event_type=EventType.BUNDLE_IMPORTED, username="fiona").count() == 1
    again = _upload(fiona, bundle)
    assert "No changes" in again.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "not valid JSON"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b'{"format": "something-else"}', "not a section bundle"),
    ],
)
def test_bad_files_are_form_errors(demo: None, sign_in: Any, content: bytes, message: str) -> None:
    response = _upload(sign_in("fiona"), content)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_hand_edited_bundle_is_refused_on_confirmation_too(demo: None, sign_in: Any) -> None:
    bundle = export_section(Section.objects.get(slug="finance"))
    bundle["pages"][0]["title"] = "Edited by hand"  # checksum no longer matches
    fiona = sign_in("fiona")
    assert "checksum" in _upload(fiona, bundle).content.decode()
    response = fiona.post(IMPORT_URL, {"bundle": json.dumps(bundle)})
    assert response.status_code == 400 and "nothing imported" in response.content.decode()
    assert not Page.objects.all_sections().filter(title="Edited by hand").exists()


def test_import_respects_section_rights(demo: None, sign_in: Any) -> None:
    hr_bundle = export_section(Section.objects.get(slug="hr"))
    assert _upload(sign_in("fiona"), hr_bundle).status_code == 403  # fiona edits finance, not hr
    assert sign_in("audrey").get(IMPORT_URL).status_code == 403  # auditors import nothing
    new = {**hr_bundle, "section": {**hr_bundle["section"], "slug": "hr-copy"}}
    new["checksum"] = checksum(new)
    refused = _upload(sign_in("fiona"), new, create="on")
    assert refused.status_code == 400 and "only platform admins" in refused.content.decode()
    admin = sign_in("admin")
    assert "to create" in _upload(admin, new, create="on").content.decode()
    assert admin.post(IMPORT_URL, {"bundle": json.dumps(new), "create": "True"}).status_code == 302
    assert Section.objects.filter(slug="hr-copy").exists()
