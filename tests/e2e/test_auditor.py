"""In the browser, as the auditor audrey: filter a section's timeline, open a diff, export CSV, look back in time.

Also writes the screenshots used by docs/howto/auditors-history.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import SecurityEvent
from core.security import EventType
from navigation import services as navigation_services
from navigation.models import MenuItem
from tests.e2e.conftest import assert_no_page_problems
from tests.e2e.test_portal_ui import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any) -> Any:
    from demo.services import load_demo

    load_demo()
    return live_server


def _fiona_renames_the_calendar() -> None:
    fiona = get_user_model().objects.get_or_create(username="fiona")[0]
    item = MenuItem.objects.all_sections().get(section__slug="finance", label="Month-end calendar")
    item.label = "Close calendar"
    navigation_services.save_menu_item(item, actor=fiona, reason="FIN-77 match the finance wording")


def test_auditor_filters_the_timeline_opens_a_diff_and_exports_csv(page: Any, demo_live: Any, tmp_path: Path) -> None:
    base = demo_live.url
    _fiona_renames_the_calendar()
    sign_in(page, base, "audrey")
    page.goto(f"{base}/audit/sections/finance/")
    page.fill("#id_user", "fiona")
    page.select_option("#id_action", "changed")
    page.click("form[aria-label='Filter the changes'] button[type=submit]")
    row = page.locator("tbody tr", has_text="FIN-77 match the finance wording")
    row.wait_for()
    assert page.locator("tbody tr").count() == 1  # only fiona's change survives the filters
    page.screenshot(path=str(DOCS_IMG / "audit-timeline.png"))

    with page.expect_download() as download_info:
        page.click("a[download]:has-text('CSV')")
    csv_path = tmp_path / "changes.csv"
    download_info.value.save_as(csv_path)
    exported = csv_path.read_text(encoding="utf-8")
    assert "FIN-77 match the finance wording" in exported and exported.count("\n") == 2  # header + one row
    assert SecurityEvent.objects.filter(event_type=EventType.EXPORT, username="audrey").count() == 1

    row.locator("a", has_text="History").click()
    page.wait_for_url("**/audit/history/navigation/menuitem/**")
    assert page.locator("del", has_text="Month-end calendar").count() == 1
    assert page.locator("ins", has_text="Close calendar").count() == 1
    assert page.locator("text=Revert to this version").count() == 0  # auditors read only
    page.screenshot(path=str(DOCS_IMG / "audit-diff.png"))

    page.click("text=Section as it was then")
    page.wait_for_selector("[data-as-of=menu]")
    assert page.locator("[data-as-of=menu] strong", has_text="Close calendar").count() == 1
    page.screenshot(path=str(DOCS_IMG / "audit-point-in-time.png"), full_page=True)
    assert_no_page_problems(page)


def test_auditor_finds_failed_sign_ins_in_the_security_events(page: Any, demo_live: Any) -> None:
    base = demo_live.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", "wrong password")
    page.click("main button[type=submit]")
    page.wait_for_selector(".alert, .invalid-feedback, .errorlist")
    sign_in(page, base, "audrey")
    page.goto(f"{base}/audit/security/")
    page.select_option("#id_type", "sign_in_failed")
    page.click("main form button[type=submit]")
    row = page.locator("tbody tr", has_text="fiona")
    row.wait_for()
    assert page.locator("tbody tr").count() == 1
    page.screenshot(path=str(DOCS_IMG / "audit-security-events.png"))
    row.locator("a", has_text="fiona").click()
    page.wait_for_url("**/audit/security/users/fiona/")
    # The person's events load into the table after the page: wait for the row, not for the page.
    page.locator("tbody tr").filter(has_text=re.compile("sign_in_failed|Sign in failed")).first.wait_for()
    assert_no_page_problems(page)
