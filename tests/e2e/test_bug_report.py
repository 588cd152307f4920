"""In the browser: "Report a problem" on a section page takes a screenshot of the page, lets the user black out a
part of it, and sends the report with the page's context; the stored screenshot is a real picture of the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image

from feedback.models import BugReport
from tests.e2e.conftest import assert_no_page_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any, settings: Any, tmp_path: Path) -> Any:
    from demo.services import load_demo

    settings.MEDIA_ROOT = tmp_path / "media"
    load_demo()
    return live_server


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "atrium-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_user_reports_a_problem_with_a_redacted_screenshot_of_the_page(page, demo_live, mailoutbox):
    base = demo_live.url
    assert page.viewport_size == VIEWPORT
    sign_in(page, base, "frank")
    response = page.goto(f"{base}/finance/")
    page_request_id = response.headers["x-request-id"]

    page.click("#atrium-feedback-open")
    page.wait_for_selector("#atrium-feedback-canvas:not(.d-none)", timeout=20000)
    page.fill("#atrium-feedback-description", "The month-end calendar shows nothing for March.")
    page.fill("#atrium-feedback-expected", "The closing dates for March.")
    page.select_option("#atrium-feedback-severity", "high")
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "feedback-modal.png"))

    # Black out a box in the middle of the preview: it must be black in the pixels that are sent.
    canvas = page.locator("#atrium-feedback-canvas").bounding_box()
    left, top = canvas["x"] + canvas["width"] * 0.4, canvas["y"] + canvas["height"] * 0.4
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(left + canvas["width"] * 0.2, top + canvas["height"] * 0.2, steps=5)
    page.mouse.up()

    page.click("#atrium-feedback-send")
    page.wait_for_selector("#atrium-feedback-done:not(.d-none)", timeout=20000)

    report = BugReport.objects.all_sections().get()
    assert report.reporter.username == "frank" and report.section.slug == "finance"
    assert report.severity == "high" and report.expected == "The closing dates for March."
    assert page.locator("#atrium-feedback-done").get_attribute("data-report-id") == str(report.pk)
    with Image.open(report.screenshot.path) as stored:
        assert stored.format == "PNG"
        stored.verify()
    with Image.open(report.screenshot.path) as stored:
        rgb = stored.convert("RGB")
        assert rgb.size == (VIEWPORT["width"], VIEWPORT["height"])
        extrema = rgb.getextrema()
        assert any(low != high for low, high in extrema), "the screenshot is one flat colour"
        assert len(rgb.getcolors(maxcolors=1 << 20) or []) > 10, "the screenshot shows nothing of the page"
        assert rgb.getpixel((VIEWPORT["width"] // 2, VIEWPORT["height"] // 2)) == (0, 0, 0)  # the redaction
        assert rgb.getpixel((5, 5)) != (0, 0, 0)

    context = report.context
    assert context["url"] == f"{base}/finance/"
    assert context["section"] == "finance"
    assert context["viewport"] == VIEWPORT and context["device_pixel_ratio"] == 1
    assert context["colour_mode"] in ("light", "dark")
    assert context["page_request_id"] == page_request_id == report.request_id
    assert context["user"] == "frank" and context["groups"] == ["finance-staff"]
    assert "HeadlessChrome" in context["user_agent"] or "Chrome" in context["user_agent"]
    assert isinstance(context["js_errors"], list) and isinstance(context["recent_request_ids"], list)
    assert report.page_url == f"{base}/finance/"
    assert mailoutbox and mailoutbox[0].to == ["finance-portal@example.com"]
    assert_no_page_problems(page)


def test_the_recent_request_ids_and_script_errors_go_with_the_report(page, demo_live):
    base = demo_live.url
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    # A request the page makes and an error it throws after loading are both recorded.
    request_id = page.evaluate(
        "() => fetch('/feedback/mine/', {credentials: 'same-origin'}).then(r => r.headers.get('X-Request-ID'))"
    )
    page.evaluate("() => { setTimeout(() => { throw new Error('boom from the test'); }, 0); }")
    page.wait_for_timeout(100)
    page.click("#atrium-feedback-open")
    page.wait_for_selector("#atrium-feedback-canvas:not(.d-none)", timeout=20000)
    page.click("#atrium-feedback-remove")
    page.fill("#atrium-feedback-description", "Something threw.")
    page.click("#atrium-feedback-send")
    page.wait_for_selector("#atrium-feedback-done:not(.d-none)", timeout=20000)
    report = BugReport.objects.all_sections().get()
    assert not report.screenshot
    assert request_id in [r["request_id"] for r in report.context["recent_request_ids"]]
    assert any("boom from the test" in e["message"] for e in report.context["js_errors"])
    assert_no_page_problems(page, allowed=("boom from the test",))


def test_an_empty_description_is_refused_in_the_modal(page, demo_live):
    base = demo_live.url
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    page.click("#atrium-feedback-open")
    page.wait_for_selector("#atrium-feedback-canvas:not(.d-none)", timeout=20000)
    page.click("#atrium-feedback-send")
    assert "is-invalid" in (page.locator("#atrium-feedback-description").get_attribute("class") or "")
    assert not BugReport.objects.all_sections().exists()
    assert_no_page_problems(page)
