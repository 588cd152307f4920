"""In the browser: the sign-in page, a lock-out after repeated failures, and the MFA step-up."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django_otp.oath import totp

from tenants.models import Section
from tests.e2e.conftest import assert_no_page_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any) -> Any:
    from demo.services import load_demo

    load_demo()
    return live_server


def _sign_in(page: Any, base: str, username: str, password: str = "atrium-demo") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


def test_sign_in_page_offers_the_form_and_hides_break_glass_behind_a_link(page, demo_live):
    base = demo_live.url
    page.goto(f"{base}/accounts/login/")
    assert page.locator("#id_username").is_visible()
    assert page.locator("input[name=token]").count() == 0  # no break-glass fields on the normal form
    page.click("text=Emergency access")
    assert page.url.endswith("/accounts/break-glass/")
    assert page.locator("input[name=token]").is_visible()
    _sign_in(page, base, "fiona")
    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "Your sections"
    assert page.locator("main a", has_text="Finance").count() == 1
    page.goto(f"{base}/finance/")
    assert "Month-end calendar" in page.content()
    assert_no_page_problems(page)


def test_repeated_failures_lock_the_account_with_a_message_that_says_how_long(page, demo_live):
    base = demo_live.url
    for _ in range(5):
        _sign_in(page, base, "frank", "wrong-password")
    _sign_in(page, base, "frank", "atrium-demo")
    text = page.locator("main").inner_text()
    assert "Too many failed sign-in attempts" in text
    assert re.search(r"locked for \d+ (minute|minutes|hour)", text), text


def test_mfa_step_up_enrols_an_authenticator_and_opens_the_section(page, demo_live):
    base = demo_live.url
    Section.objects.filter(slug="finance").update(require_mfa=True)
    _sign_in(page, base, "frank")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/finance/")
    page.wait_for_url(re.compile(r".*/accounts/mfa/setup/.*"))
    assert page.locator("img[alt^='QR code']").is_visible()
    secret = page.locator("code").inner_text().strip()
    code = f"{totp(base64.b32decode(secret)):06d}"
    page.fill("input[name=token]", code)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/finance/")
    assert "Month-end calendar" in page.content()
    assert_no_page_problems(page)
