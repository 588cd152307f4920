"""In the browser: menus by group, live menu changes, colour modes on every device, sidebar, phone layout, axe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from navigation.models import MenuItem
from tenants.models import Page, Section
from tests.e2e.conftest import assert_no_page_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any) -> Any:
    from demo.services import load_demo

    load_demo()
    return live_server


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "atrium-demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def sidebar_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#atrium-sidebar .atrium-sidenav-label").all_inner_texts()]


def choose_mode(page: Any, mode: str) -> None:
    page.click("#atrium-mode-menu")
    page.click(f'[data-atrium-mode-choice="{mode}"]')


def test_frank_and_fiona_see_the_items_of_their_groups(page, demo_live):
    base = demo_live.url
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    frank = sidebar_labels(page)
    assert "Month-end calendar" in frank and "Editor guide" not in frank
    page.context.clear_cookies()
    sign_in(page, base, "fiona")
    page.goto(f"{base}/finance/")
    fiona = sidebar_labels(page)
    assert "Month-end calendar" in fiona and "Editor guide" in fiona
    assert_no_page_problems(page)


def test_an_item_added_in_the_admin_appears_on_the_next_load(page, demo_live):
    base = demo_live.url
    sign_in(page, base, "fiona")
    page.goto(f"{base}/finance/")
    assert "Quarterly review" not in sidebar_labels(page)
    finance = Section.objects.get(slug="finance")
    home = Page.objects.all_sections().get(section=finance, slug="home")
    page.goto(f"{base}/admin/navigation/menuitem/add/")
    page.select_option("#id_section", str(finance.pk))
    page.fill("#id_label", "Quarterly review")
    page.select_option("#id_page", str(home.pk))
    page.fill("#id_change_reason", "New review page")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/navigation/menuitem/")
    page.goto(f"{base}/finance/")
    assert "Quarterly review" in sidebar_labels(page)
    assert MenuItem.objects.all_sections().get(label="Quarterly review").history.latest("history_date").history_user


def test_colour_mode_survives_a_reload_and_follows_the_user_to_another_device(browser, demo_live):
    base = demo_live.url
    laptop = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    sign_in(laptop, base, "frank")
    laptop.goto(f"{base}/finance/")
    assert laptop.evaluate("document.documentElement.dataset.bsTheme") == "light"
    laptop.screenshot(path=str(DOCS_IMG / "portal-light-desktop.png"))
    with laptop.expect_response("**/preferences/display/") as saved:  # the save is asynchronous
        choose_mode(laptop, "dark")
    assert saved.value.status == 204
    assert laptop.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    laptop.reload()
    assert laptop.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    laptop.screenshot(path=str(DOCS_IMG / "portal-dark-desktop.png"))
    phone = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    sign_in(phone, base, "frank")
    phone.goto(f"{base}/finance/")
    assert phone.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    phone.screenshot(path=str(DOCS_IMG / "portal-dark-phone.png"))
    with phone.expect_response("**/preferences/display/") as saved:
        choose_mode(phone, "light")
    assert saved.value.status == 204
    phone.screenshot(path=str(DOCS_IMG / "portal-light-phone.png"))
    laptop.reload()
    assert laptop.evaluate("document.documentElement.dataset.bsTheme") == "light"
    for tab in (laptop, phone):
        tab.context.close()


def test_auto_follows_the_system_colour_scheme(browser, demo_live):
    base = demo_live.url
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    assert page.evaluate("document.documentElement.dataset.atriumMode") == "auto"
    assert page.evaluate("document.documentElement.dataset.bsTheme") == "dark"
    page.emulate_media(color_scheme="light")
    for _ in range(20):  # wait_for_function would need eval(), which the page's CSP (rightly) forbids
        if page.evaluate("document.documentElement.dataset.bsTheme") == "light":
            break
        page.wait_for_timeout(50)
    assert page.evaluate("document.documentElement.dataset.bsTheme") == "light"
    context.close()


def test_the_sidebar_collapses_and_stays_collapsed(page, demo_live):
    base = demo_live.url
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    assert page.locator("#atrium-sidebar .atrium-sidenav-label").first.is_visible()
    with page.expect_response("**/preferences/display/") as saved:
        page.click("[data-atrium-sidebar-toggle]")
    assert saved.value.status == 204
    assert not page.locator("#atrium-sidebar .atrium-sidenav-label").first.is_visible()
    page.goto(f"{base}/finance/")
    assert page.evaluate("document.documentElement.dataset.atriumSidebar") == "collapsed"
    assert not page.locator("#atrium-sidebar .atrium-sidenav-label").first.is_visible()
    assert_no_page_problems(page)


def test_on_a_phone_the_menu_opens_off_canvas(browser, demo_live):
    base = demo_live.url
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    sign_in(page, base, "frank")
    page.goto(f"{base}/finance/")
    assert not page.locator("#atrium-sidebar").is_visible()
    menu = page.locator("#atrium-mobile-menu")
    assert not menu.is_visible()
    page.click("[aria-controls=atrium-mobile-menu]")
    menu.wait_for(state="visible")
    assert menu.get_by_text("Month-end calendar").is_visible()
    page.wait_for_timeout(500)  # let the slide-in finish before the screenshot
    page.screenshot(path=str(DOCS_IMG / "portal-phone-menu.png"))
    menu.get_by_text("Month-end calendar").click()
    page.wait_for_url(f"{base}/finance/pages/**")
    context.close()


def run_axe(page: Any, base: str) -> list[dict[str, Any]]:
    # axe-core from npm, served by the app itself: the page's CSP allows scripts from 'self' only.
    page.add_script_tag(url=f"{base}/static/vendor/axe-core/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", ["/", "/finance/", "/preferences/", "/components/"])
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violations(browser, demo_live, path, mode):
    base = demo_live.url
    context = browser.new_context(color_scheme=mode, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, base, "fiona")
    response = page.goto(f"{base}{path}")
    assert response.status == 200
    violations = run_axe(page, base)
    assert violations == [], json.dumps(
        [(v["id"], [(n["target"], n.get("failureSummary", "")[:300]) for n in v["nodes"]][:3]) for v in violations]
    )
    context.close()
