"""Sections: visibility by role, archived sections, unknown and malformed URLs."""

from __future__ import annotations

import pytest

from tenants.models import Section, SectionStatus

pytestmark = pytest.mark.django_db


def test_fiona_sees_finance_and_is_refused_hr(demo, sign_in):
    fiona = sign_in("fiona")
    assert fiona.get("/finance/").status_code == 200
    response = fiona.get("/hr/")
    assert response.status_code == 403
    assert b"You do not have access" in response.content


def test_home_lists_only_sections_the_user_may_visit(demo, sign_in):
    page = sign_in("frank").get("/").content.decode()
    assert "Finance" in page and "Engineering" in page
    assert ">HR<" not in page


def test_engineering_is_open_to_every_signed_in_user(demo, sign_in):
    assert sign_in("hana").get("/engineering/").status_code == 200


def test_anonymous_visitor_is_sent_to_sign_in(demo, client):
    response = client.get("/finance/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/finance/")


@pytest.mark.parametrize("path", ["/no-such-section/", "/finance/pages/abc/", "/finance/pages/99999999/", "/X!/"])
def test_unknown_or_malformed_urls_are_404(demo, sign_in, path):
    response = sign_in("fiona").get(path)
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_archived_section_is_gone_for_visitors_and_readable_for_auditors(demo, sign_in):
    Section.objects.filter(slug="finance").update(status=SectionStatus.ARCHIVED)
    assert sign_in("fiona").get("/finance/").status_code == 410
    response = sign_in("audrey").get("/finance/")
    assert response.status_code == 200
    assert b"archived" in response.content


def test_environment_banner_shows_in_test_pages(demo, sign_in):
    assert b'data-environment="test"' in sign_in("fiona").get("/finance/").content


def test_request_id_is_returned_and_honoured(client, db):
    response = client.get("/", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert response["X-Request-ID"] == "abc-123-def-456"
    forged = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert forged["X-Request-ID"] != "bad id\nwith newline" and len(forged["X-Request-ID"]) == 32


def test_environment_banner_shows_in_the_admin_too(demo, sign_in):
    assert b'data-environment="test"' in sign_in("fiona").get("/admin/").content
