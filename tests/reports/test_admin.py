"""The catalog's admin pages: platform admins edit, section editors edit only their own section's reports."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("model", ["dataset", "datasetcolumn", "reportdefinition"])
def test_admin_lists_and_forms_render(catalog: dict[str, Any], sign_in: Any, model: str) -> None:
    client = sign_in("admin")
    assert client.get(f"/admin/reports/{model}/").status_code == 200
    assert client.get(f"/admin/reports/{model}/add/").status_code == 200


def test_section_editor_sees_only_their_sections_reports(catalog: dict[str, Any], sign_in: Any) -> None:
    client = sign_in("fiona")
    page = client.get("/admin/reports/reportdefinition/").content.decode()
    assert catalog["finance_report"].title in page and catalog["hr_report"].title not in page
    assert client.get(f"/admin/reports/reportdefinition/{catalog['hr_report'].pk}/change/").status_code == 404


def test_admin_change_goes_through_the_service_with_a_reason(catalog: dict[str, Any], sign_in: Any) -> None:
    client = sign_in("admin")
    report = catalog["finance_report"]
    url = f"/admin/reports/reportdefinition/{report.pk}/change/"
    form = {
        "section": report.section_id,
        "title": "Open invoices, by supplier",
        "slug": report.slug,
        "description": "",
        "dataset": report.dataset_id,
        "columns": '["supplier", "amount"]',
        "filters": "[]",
        "default_sort": '["-amount"]',
        "page_size": "25",
        "chart_type": "",
        "chart_aggregation": "count",
        "change_reason": "shorter report",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    report.refresh_from_db()
    assert report.columns == ["supplier", "amount"]
    assert report.history.latest().history_change_reason == "shorter report"
