"""/api/v1/bug-reports/: pages (session + CSRF) and scripts (tokens) report problems; screenshots are proven to be
images; section walls hold (another section's report is a 404, a section one may not visit stores nothing);
triage moves the status with history; every error is a problem document."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from feedback.models import BugReport, Status
from tenants.models import Section

from .conftest import assert_problem, csrf_token, image_bytes

pytestmark = pytest.mark.django_db

URL = "/api/v1/bug-reports/"
CONTEXT = {
    "url": "http://testserver/finance/",
    "viewport": {"width": 64, "height": 40},
    "colour_mode": "dark",
    "page_request_id": "abcdef0123456789",
    "recent_request_ids": [{"url": "/x", "status": 200, "request_id": "feedbeef0001"}],
    "js_errors": [{"message": "TypeError: x is undefined"}],
    "something_else": "dropped",
}


def report_data(section: str = "finance", screenshot: bytes | None = None, name: str = "screenshot.png", **extra):
    data = {
        "description": "The month-end calendar is empty.",
        "expected": "The closing dates.",
        "severity": "high",
        "section": section,
        "url": "http://testserver/finance/",
        "request_id": "abcdef0123456789",
        "context": json.dumps(CONTEXT),
        **extra,
    }
    if screenshot is not None:
        data["screenshot"] = SimpleUploadedFile(name, screenshot, content_type="image/png")
    return data


def post_as_page(client, data):
    return client.post(URL, data, HTTP_X_CSRFTOKEN=csrf_token(client), HTTP_USER_AGENT="Mozilla/5.0 (Test)")


# ---------------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------------
def test_a_viewer_reports_a_problem_from_a_finance_page(browser_client, mailoutbox, django_capture_on_commit_callbacks):
    client = browser_client("frank")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_as_page(client, report_data(screenshot=image_bytes()))
    assert response.status_code == 201, response.content
    body = response.json()
    report = BugReport.objects.all_sections().get(pk=body["id"])
    assert report.section.slug == "finance" and report.reporter.username == "frank"
    assert report.status == Status.NEW and report.severity == "high"
    assert report.request_id == "abcdef0123456789"
    with Image.open(report.screenshot.path) as stored:
        assert stored.format == "PNG" and stored.size == (64, 40)
    assert report.screenshot.name.startswith("feedback/finance/") and report.screenshot.name.endswith(".png")
    context = report.context
    assert context["user"] == "frank" and context["groups"] == ["finance-staff"]
    assert context["user_agent"] == "Mozilla/5.0 (Test)"
    assert context["section"] == "finance" and context["colour_mode"] == "dark"
    assert context["viewport"] == {"width": 64, "height": 40}
    assert context["recent_request_ids"][0]["request_id"] == "feedbeef0001"
    assert "something_else" not in context
    assert body["screenshot"].endswith(f"/feedback/{report.pk}/screenshot/")
    assert report.history.count() == 1 and report.history.first().history_user.username == "frank"
    [mail] = mailoutbox
    assert mail.to == ["finance-portal@example.com"]
    assert f"Problem #{report.pk}" in mail.subject and "Finance" in mail.subject
    assert "The month-end calendar is empty." in mail.body and f"/feedback/{report.pk}/" in mail.body


def test_a_page_post_without_the_csrf_token_is_refused(browser_client):
    client = browser_client("frank")
    response = client.post(URL, report_data(screenshot=image_bytes()))
    assert_problem(response, 403)
    assert not BugReport.objects.all_sections().exists()


def test_a_script_reports_with_a_token(token_for, bearer):
    client = bearer(token_for("frank", scope="write"))
    response = client.post(
        URL, report_data(section="engineering", screenshot=image_bytes(fmt="JPEG")), format="multipart"
    )
    assert response.status_code == 201, response.content
    report = BugReport.objects.all_sections().get()
    assert report.section.slug == "engineering" and report.screenshot.name.endswith(".jpg")


def test_a_report_without_a_section_or_screenshot_goes_to_the_platform_admins(
    token_for, bearer, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("Ops", "ops@example.com")]
    client = bearer(token_for("frank", scope="write"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, report_data(section=""), format="multipart")
    assert response.status_code == 201, response.content
    assert BugReport.objects.all_sections().get().section is None
    assert mailoutbox[0].to == ["atrium-support@example.com", "ops@example.com"]


@pytest.mark.parametrize("section", ["hr", "no-such-section"])
def test_a_report_for_a_section_one_may_not_visit_is_404_and_stores_nothing(
    browser_client, section, mailoutbox, django_capture_on_commit_callbacks, _media_root
):
    client = browser_client("frank")  # finance staff: hr is closed to him
    with django_capture_on_commit_callbacks(execute=True):
        response = post_as_page(client, report_data(section=section, screenshot=image_bytes()))
    assert_problem(response, 404)
    assert not BugReport.objects.all_sections().exists()
    assert mailoutbox == []
    assert not list(_media_root.rglob("*.png")) if _media_root.exists() else True


def _gif() -> bytes:
    return image_bytes(fmt="GIF")


def _png_header_with_garbage() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"garbage" * 50


def _truncated_png() -> bytes:
    return image_bytes(400, 300)[:-200]


@pytest.mark.parametrize(
    ("screenshot", "name"),
    [
        (b"this is not an image, whatever its name says", "screenshot.png"),
        (_png_header_with_garbage(), "screenshot.png"),
        (_truncated_png(), "screenshot.png"),
        (_gif(), "screenshot.png"),
        (image_bytes(9000, 10), "wide.png"),
        (b"", "empty.png"),
    ],
    ids=["text", "png-header-garbage", "truncated-png", "gif", "too-many-pixels", "empty"],
)
def test_a_screenshot_that_is_not_a_png_or_jpeg_is_a_400_and_stores_nothing(
    browser_client, screenshot, name, _media_root
):
    response = post_as_page(browser_client("frank"), report_data(screenshot=screenshot, name=name))
    body = assert_problem(response, 400)
    assert [p["name"] for p in body["invalid_params"]] == ["screenshot"]
    assert not BugReport.objects.all_sections().exists()
    assert not _media_root.exists() or not any(p.is_file() for p in _media_root.rglob("*"))


def test_an_oversized_screenshot_is_a_400(browser_client, settings):
    settings.FEEDBACK_SCREENSHOT_MAX_BYTES = 1000
    noise = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 1000
    response = post_as_page(browser_client("frank"), report_data(screenshot=buffer.getvalue()))
    body = assert_problem(response, 400)
    assert body["invalid_params"][0]["name"] == "screenshot" and "larger than" in body["invalid_params"][0]["reason"]
    assert not BugReport.objects.all_sections().exists()


def test_a_report_without_a_description_is_a_400_with_the_field(browser_client):
    response = post_as_page(browser_client("frank"), report_data(description="", severity="urgent"))
    body = assert_problem(response, 400)
    assert {p["name"] for p in body["invalid_params"]} == {"description", "severity"}
    assert not BugReport.objects.all_sections().exists()


def test_context_that_is_not_a_json_object_is_a_400(browser_client):
    response = post_as_page(browser_client("frank"), report_data(context="[1, 2]"))
    assert assert_problem(response, 400)["invalid_params"][0]["name"] == "context"


# ---------------------------------------------------------------------------------------------------------------
# Reading: the walls
# ---------------------------------------------------------------------------------------------------------------
def _report(section: str | None, reporter: str, **fields) -> BugReport:
    return BugReport.objects.create(
        section=Section.objects.get(slug=section) if section else None,
        reporter=get_user_model().objects.get(username=reporter),
        description=f"A problem in {section}",
        **fields,
    )


@pytest.fixture
def reports(user):
    for name in ("frank", "fiona", "hana", "admin", "audrey"):
        user(name)
    return {
        "finance": _report("finance", "frank"),
        "hr": _report("hr", "hana"),
        "platform": _report(None, "fiona"),
    }


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_who_lists_which_reports(reports, token_for, bearer):
    finance, hr, platform = reports["finance"].pk, reports["hr"].pk, reports["platform"].pk
    assert _ids(bearer(token_for("frank")).get(URL)) == {finance}
    assert _ids(bearer(token_for("fiona")).get(URL)) == {finance, platform}  # her section's, and her own
    assert _ids(bearer(token_for("hana")).get(URL)) == {hr}
    assert _ids(bearer(token_for("admin")).get(URL)) == {finance, hr, platform}
    assert _ids(bearer(token_for("audrey")).get(URL)) == {finance, hr, platform}
    assert _ids(bearer(token_for("admin", section="hr")).get(URL)) == {hr}


def test_another_sections_report_is_404_for_reading_and_triage(reports, token_for, bearer):
    hr = reports["hr"]
    fiona = bearer(token_for("fiona", scope="write"))
    assert_problem(fiona.get(f"{URL}{hr.pk}/"), 404)
    assert_problem(fiona.patch(f"{URL}{hr.pk}/", {"status": "triaged"}), 404)
    restricted = bearer(token_for("admin", section="finance", scope="write"))
    assert_problem(restricted.get(f"{URL}{hr.pk}/"), 404)
    assert_problem(restricted.patch(f"{URL}{hr.pk}/", {"status": "triaged"}), 404)
    hr.refresh_from_db()
    assert hr.status == Status.NEW and hr.history.count() == 1  # the creation only


def test_a_reporter_reads_their_report_but_cannot_triage_it(reports, token_for, bearer):
    frank = bearer(token_for("frank", scope="write"))
    finance = reports["finance"]
    assert frank.get(f"{URL}{finance.pk}/").json()["status"] == "new"
    assert_problem(frank.patch(f"{URL}{finance.pk}/", {"status": "resolved"}), 403)


def test_auditors_read_every_report_and_triage_none_but_report_their_own(reports, token_for, bearer):
    audrey = bearer(token_for("audrey", scope="write"))
    assert audrey.get(f"{URL}{reports['hr'].pk}/").status_code == 200
    assert_problem(audrey.patch(f"{URL}{reports['hr'].pk}/", {"status": "triaged"}), 403)
    assert audrey.post(URL, {"description": "The history page is slow.", "section": "hr"}).status_code == 201


def test_a_read_token_cannot_report(reports, token_for, bearer):
    assert_problem(bearer(token_for("frank", scope="read")).post(URL, {"description": "x"}), 403)
    assert BugReport.objects.all_sections().count() == 3


# ---------------------------------------------------------------------------------------------------------------
# Triage
# ---------------------------------------------------------------------------------------------------------------
def test_an_editor_moves_a_report_through_triage_with_history(reports, token_for, bearer):
    fiona = bearer(token_for("fiona", scope="write"))
    report = reports["finance"]
    for status in ("triaged", "in_progress", "resolved"):
        response = fiona.patch(f"{URL}{report.pk}/", {"status": status, "reason": f"to {status}"})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
    history = list(report.history.filter(history_type="~").order_by("history_date"))
    assert [h.status for h in history] == ["triaged", "in_progress", "resolved"]
    assert {h.history_user.username for h in history} == {"fiona"}
    assert [h.history_change_reason for h in history] == ["to triaged", "to in_progress", "to resolved"]


def test_a_resolved_report_can_be_reopened_but_not_sent_back_to_new(reports, token_for, bearer):
    fiona = bearer(token_for("fiona", scope="write"))
    report = reports["finance"]
    assert fiona.patch(f"{URL}{report.pk}/", {"status": "resolved"}).status_code == 200
    body = assert_problem(fiona.patch(f"{URL}{report.pk}/", {"status": "new"}), 400)
    assert body["invalid_params"][0]["name"] == "status"
    assert fiona.patch(f"{URL}{report.pk}/", {"status": "triaged"}).json()["status"] == "triaged"


def test_the_assignee_must_be_an_editor_of_the_section(reports, token_for, bearer):
    fiona = bearer(token_for("fiona", scope="write"))
    report = reports["finance"]
    assert fiona.patch(f"{URL}{report.pk}/", {"assignee": "fiona"}).json()["assignee"] == "fiona"
    body = assert_problem(fiona.patch(f"{URL}{report.pk}/", {"assignee": "hana"}), 400)
    assert body["invalid_params"][0]["name"] == "assignee"
    assert fiona.patch(f"{URL}{report.pk}/", {"assignee": None}).json()["assignee"] is None
    report.refresh_from_db()
    assert report.assignee is None
    assert [h.assignee_id is not None for h in report.history.order_by("history_date")] == [False, True, False]


def test_put_and_delete_are_not_offered(reports, token_for, bearer):
    admin = bearer(token_for("admin", scope="write"))
    report = reports["finance"]
    assert_problem(admin.put(f"{URL}{report.pk}/", {"status": "triaged"}), 405)
    assert_problem(admin.delete(f"{URL}{report.pk}/"), 405)


def test_the_schema_describes_every_operation_with_an_example():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [op for path, item in schema["paths"].items() if "bug-reports" in path for op in item.values()]
    assert len(operations) == 4
    assert all(op.get("summary") and op.get("description") for op in operations)
    create = schema["paths"]["/api/v1/bug-reports/"]["post"]
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert create["requestBody"]["content"]["multipart/form-data"].get("examples")
