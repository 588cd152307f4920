"""In the browser: the tokens page creates, shows once and revokes a token; Swagger UI and Redoc draw the API
under the strict CSP, and Swagger UI's "try it out" sends the CSRF token with the session's writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import assert_no_page_problems
from tests.e2e.test_portal_ui import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any) -> Any:
    from demo.services import load_demo

    load_demo()
    return live_server


def test_swagger_ui_lists_the_endpoints_without_console_errors(demo_live: Any, page: Any) -> None:
    sign_in(page, demo_live.url, "admin")
    page.goto(f"{demo_live.url}/api/docs/")
    page.wait_for_selector("text=/api/v1/sections/", timeout=15000)
    assert page.locator(".opblock-summary-path").count() >= 10
    # "Try it out" sends writes with the session: each carries the page's CSRF token, reads do not need it.
    headers = page.evaluate(
        """() => {
            const intercept = window.ui.getConfigs().requestInterceptor;
            const write = intercept({method: "PATCH", credentials: "same-origin", headers: {}}).headers;
            const read = intercept({method: "GET", credentials: "same-origin", headers: {}}).headers;
            return {write, read, token: document.querySelector('meta[name="csrf-token"]').content};
        }"""
    )
    assert headers["write"] == {"X-CSRFTOKEN": headers["token"]} and headers["read"] == {}
    assert_no_page_problems(page)


def test_redoc_draws_the_reference_without_console_errors(demo_live: Any, page: Any) -> None:
    sign_in(page, demo_live.url, "admin")
    page.goto(f"{demo_live.url}/api/redoc/")
    page.wait_for_selector("h1:has-text('Atrium API')", timeout=15000)
    assert page.locator("h2:has-text('List sections')").count() == 1
    # Redoc's "API docs by Redocly" credit always asks its CDN for a logo; the CSP refuses it and Redoc hides it.
    assert_no_page_problems(page, allowed=("cdn.redoc.ly/redoc/logo-mini.svg",))


def test_a_token_is_created_shown_once_and_revoked_on_the_tokens_page(demo_live: Any, page: Any) -> None:
    sign_in(page, demo_live.url, "fiona")
    page.goto(f"{demo_live.url}/accounts/tokens/")
    page.fill("#id_name", "nightly export")
    page.check("input[name=scope][value=read]")
    page.click("main button[type=submit]:has-text('Create token')")
    token = page.input_value("[data-new-token]")
    assert token.startswith("atr_") and len(token) == 52
    assert page.locator("[data-api-tokens] tbody tr").count() == 1
    page.goto(f"{demo_live.url}/accounts/tokens/")
    assert page.locator("[data-new-token]").count() == 0
    page.click("[data-api-tokens] button:has-text('Revoke')")
    page.wait_for_selector("text=no longer works")
    assert page.locator("[data-api-tokens] .badge").inner_text() == "Revoked"
    assert_no_page_problems(page)


def test_the_usage_page_shows_calls_to_an_admin(demo_live: Any, page: Any) -> None:
    sign_in(page, demo_live.url, "admin")
    page.goto(f"{demo_live.url}/api/v1/sections/")
    page.goto(f"{demo_live.url}/api/usage/")
    assert page.locator("[data-api-calls] tbody tr").count() >= 1
    assert "/api/v1/sections/" in page.locator("[data-api-endpoints]").inner_text()
    assert_no_page_problems(page)
