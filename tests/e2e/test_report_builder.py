"""In the browser: fiona builds a report (two filters, a bar chart) with the live preview, saves it to the finance
section, a menu item links to it, and from the menu she sorts, searches and exports exactly what the table shows;
then she saves the view and applies it. Also writes docs/img/report-builder.png and docs/img/report-view.png."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.e2e.conftest import assert_no_page_problems
from tests.e2e.test_portal_ui import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DOCS_IMG = Path(settings.BASE_DIR) / "docs" / "img"


@pytest.fixture
def demo_live(transactional_db: Any, live_server: Any) -> Any:
    from demo.services import load_demo
    from reports.demo import ensure_demo_datasets

    load_demo()
    ensure_demo_datasets(invoices=400, headcount=50)
    return live_server


def _table_info(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
            const table = document.querySelector("[data-report-table] table[data-atrium-datatable]");
            const api = new window.DataTable.Api(table);
            const info = api.page.info();
            return {
                filtered: info.recordsDisplay,
                total: info.recordsTotal,
                headers: Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim()),
            };
        }"""
    )


def _redraw(page: Any, action: Any) -> None:
    """Do `action` and wait until the table has loaded and drawn the rows it asked the server for."""
    with page.expect_response(lambda r: "/data/" in r.url and r.status == 200, timeout=15000):
        action()
    page.wait_for_function(
        "() => !document.querySelector('[data-report-table] .dt-processing[style*=block]')", timeout=15000
    )
    page.wait_for_timeout(300)  # DataTables draws in the response's callback


def test_fiona_builds_links_and_exports_a_report(demo_live: Any, page: Any, tmp_path: Path) -> None:
    from navigation.models import MenuItem
    from navigation.services import save_menu_item
    from reports.models import ReportDefinition
    from tenants.models import Section

    base = demo_live.url
    sign_in(page, base, "fiona")
    page.goto(f"{base}/reports/")
    page.click("[data-new-report]")
    page.wait_for_url(f"{base}/reports/new/")
    form = page.locator("form[data-report-builder]")
    page.select_option("#id_dataset", "finance.invoices")
    page.fill("#id_title", "Large open invoices")
    page.fill("#id_description", "Open invoices over 1,000, largest first, with the amount per supplier.")
    for column in ("invoice_number", "supplier", "cost_centre", "amount", "due_date", "status"):
        page.check(f"#id_columns_{column}")
    # Move "amount" above "cost_centre": the table's column order is the list's.
    page.click("[data-column-item=amount] [data-move=up]")
    page.click("[data-column-item=amount] [data-move=up]")

    # Two filters: operators are offered by the column's type.
    page.click("[data-add-filter]")
    first = page.locator("[data-filter-row]").nth(0)
    first.locator("[data-filter-column]").select_option("status")
    assert "contains" in first.locator("[data-filter-op] option").all_inner_texts()
    first.locator("[data-filter-op]").select_option("eq")
    first.locator("[data-filter-value]").fill("open")
    page.click("[data-add-filter]")
    second = page.locator("[data-filter-row]").nth(1)
    second.locator("[data-filter-column]").select_option("amount")
    assert "contains" not in second.locator("[data-filter-op] option").all_inner_texts()
    second.locator("[data-filter-op]").select_option("gt")
    # A value that does not fit the column: the preview's 400 is shown next to the filter.
    second.locator("[data-filter-value]").fill("lots")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-filter-error]')[1].textContent.includes('number')", timeout=15000
    )
    assert page.locator("[data-preview-problem]").is_visible()
    second.locator("[data-filter-value]").fill("1000")

    page.select_option("#id_sort_column", "amount")
    page.check("#id_sort_descending")
    page.select_option("#id_chart_type", "bar")
    page.select_option("#id_chart_x", "supplier")
    page.select_option("#id_chart_aggregation", "sum")
    page.select_option("#id_chart_y", "amount")
    page.wait_for_selector("form[data-report-builder][data-preview-ready]", timeout=15000)
    page.wait_for_selector("[data-preview-chart] canvas", timeout=15000)
    assert not page.locator("[data-preview-problem]").is_visible()
    headers = page.locator("[data-preview-table] thead th").all_inner_texts()
    assert headers == ["Invoice", "Supplier", "Amount", "Cost centre", "Due date", "Status"]
    preview_rows = page.locator("[data-preview-table] tbody tr")
    assert 0 < preview_rows.count() <= 10
    assert set(page.locator("[data-preview-table] tbody td:nth-child(6)").all_inner_texts()) == {"open"}

    finance = Section.objects.get(slug="finance")
    page.select_option("#id_target", str(finance.pk))
    page.fill("#id_reason", "Month-end review of large open invoices")
    page.screenshot(path=str(DOCS_IMG / "report-builder.png"), full_page=True)
    assert_no_page_problems(page, allowed=("status of 400",))  # the deliberate bad filter value above
    page.problems.clear()
    form.locator("[data-builder-save]").click()
    page.wait_for_url(re.compile(r"/reports/\d+/$"))
    report = ReportDefinition.objects.get(title="Large open invoices")
    assert report.section_id == finance.pk
    assert report.filters == [
        {"column": "status", "op": "eq", "value": "open"},
        {"column": "amount", "op": "gt", "value": "1000"},
    ]
    assert report.history.latest().history_change_reason == "Month-end review of large open invoices"
    assert_no_page_problems(page)

    # A menu item of the finance section points to the report (navigation's "report" target).
    save_menu_item(
        MenuItem(section=finance, label="Large open invoices", icon="bar-chart", report=report),
        actor=None,
        reason="Link the month-end report",
    )
    page.goto(f"{base}/finance/")
    page.locator("a", has_text="Large open invoices").first.click()
    page.wait_for_url(f"{base}/reports/{report.pk}/")
    page.wait_for_selector("[data-report-table] tbody tr td", timeout=15000)
    page.wait_for_selector("canvas[data-atrium-chart]")
    info = _table_info(page)
    assert info["headers"] == ["Invoice", "Supplier", "Amount", "Cost centre", "Due date", "Status"]
    unfiltered = info["total"]
    assert unfiltered > 0

    # Sort by supplier, then search for the first supplier shown.
    _redraw(page, lambda: page.click("[data-report-table] thead th:has-text('Supplier')"))
    suppliers = page.locator("[data-report-table] tbody td:nth-child(2)").all_inner_texts()
    assert suppliers == sorted(suppliers)
    needle = suppliers[0].split()[0]
    _redraw(page, lambda: page.fill(".dt-search input", needle))
    info = _table_info(page)
    assert 0 < info["filtered"] <= unfiltered
    page.screenshot(path=str(DOCS_IMG / "report-view.png"), full_page=True)

    # The CSV is exactly the table on screen: same header, same rows (all pages), same order.
    with page.expect_download() as download_info:
        page.click("[data-report-exports] a:has-text('CSV')")
    path = tmp_path / "report.csv"
    download_info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == info["headers"]
    assert len(rows) - 1 == info["filtered"]
    assert [row[1] for row in rows[1:]] == sorted(row[1] for row in rows[1:])
    assert all(needle.lower() in " ".join(row).lower() for row in rows[1:])
    assert_no_page_problems(page)

    # Save this view, start over, and apply it again from the dropdown.
    page.fill("#id_view_name", "Supplier search")
    page.click("[data-save-view-form] button[type=submit]")
    page.wait_for_url(re.compile(r"\?view=\d+$"))
    page.wait_for_function("(n) => document.querySelector('.dt-search input').value === n", arg=needle, timeout=15000)
    page.goto(f"{base}/reports/{report.pk}/")
    page.wait_for_selector("[data-report-table] tbody tr td", timeout=15000)
    page.click("[data-saved-views-menu]")
    _redraw(page, lambda: page.click("[data-saved-view]:has-text('Supplier search')"))
    page.wait_for_url(re.compile(r"\?view=\d+$"))
    page.wait_for_function("(n) => document.querySelector('.dt-search input').value === n", arg=needle, timeout=15000)
    # The exports follow the table's requests: once the link carries the search, the table shows its result.
    page.wait_for_function(
        """() => {
            const href = document.querySelector("[data-report-exports] a[data-export-base]").getAttribute("href");
            return href.includes("view=") && href.includes("search%5Bvalue%5D=");
        }""",
        timeout=15000,
    )
    page.wait_for_timeout(300)
    assert _table_info(page)["filtered"] == info["filtered"]
    assert_no_page_problems(page)
