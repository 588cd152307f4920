"""The report builder: who may build and edit what, server-side validation (form errors, 400 problems), the live
preview, and saving with a reason through the services (history)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from reports.models import ReportDefinition

pytestmark = pytest.mark.django_db


def _definition(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Big open invoices",
        "description": "Open invoices over 1000",
        "dataset": "finance.invoices",
        "columns": ["supplier", "amount", "status", "invoice_date"],
        "filters": json.dumps(
            [{"column": "status", "op": "eq", "value": "open"}, {"column": "amount", "op": "gt", "value": "1000"}]
        ),
        "sort_column": "amount",
        "sort_descending": "on",
        "page_size": "25",
        "chart_type": "bar",
        "chart_x": "supplier",
        "chart_aggregation": "sum",
        "chart_y": "amount",
        "chart_group_by": "",
        "chart_bucket": "",
        "target": "personal",
        "reason": "A report for the month-end review",
    }
    data.update(overrides)
    return data


def _finance_section_id(catalog: dict[str, Any]) -> str:
    return str(catalog["finance_report"].section_id)


# ---------------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------------
def test_builder_offers_only_visible_datasets_columns_and_editable_sections(
    catalog: dict[str, Any], sign_in: Callable[[str], Client], cleared: Callable[[str, str], Client]
) -> None:
    response = sign_in("frank").get("/reports/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="finance.invoices"' in page
    assert 'value="hr.headcount"' not in page
    assert 'value="bank_account"' not in page  # frank has no bank-details clearance
    assert "Section: Finance" not in page  # a viewer saves personal reports only
    assert 'id="builder-catalog"' in page and "<script>" not in page

    fiona = cleared("fiona", "finance-bank-details").get("/reports/new/").content.decode()
    assert f'value="{_finance_section_id(catalog)}"' in fiona
    assert 'value="bank_account"' in fiona  # cleared for it


def test_builder_needs_sign_in(catalog: dict[str, Any], client: Client) -> None:
    assert client.get("/reports/new/").status_code == 302
    assert client.post("/reports/new/preview/", {}).status_code == 401


# ---------------------------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------------------------
def test_editor_saves_a_section_report_with_history(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    client = sign_in("fiona")
    response = client.post("/reports/new/", _definition(target=_finance_section_id(catalog)))
    assert response.status_code == 302, response.content.decode()[:2000]
    report = ReportDefinition.objects.get(title="Big open invoices")
    assert response["Location"] == f"/reports/{report.pk}/"
    assert report.section_id == catalog["finance_report"].section_id and report.owner is None
    assert report.columns == ["supplier", "amount", "status", "invoice_date"]  # in the posted order
    assert report.filters == [
        {"column": "status", "op": "eq", "value": "open"},
        {"column": "amount", "op": "gt", "value": "1000"},
    ]
    assert report.default_sort == ["-amount"]
    assert (report.chart_type, report.chart_x, report.chart_y, report.chart_aggregation) == (
        "bar",
        "supplier",
        "amount",
        "sum",
    )
    assert report.slug == "big-open-invoices"
    last = report.history.latest()
    assert last.history_change_reason == "A report for the month-end review"
    assert last.history_user.username == "fiona"
    assert client.get(f"/reports/{report.pk}/").status_code == 200
    assert sign_in("frank").get(f"/reports/{report.pk}/").status_code == 200  # shared with the section


def test_personal_report_is_owned_and_private(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    response = sign_in("frank").post("/reports/new/", _definition(columns=["amount", "supplier"]))
    assert response.status_code == 302
    report = ReportDefinition.objects.get(title="Big open invoices")
    assert report.section is None and report.owner.username == "frank"
    assert report.columns == ["amount", "supplier"]
    assert sign_in("fiona").get(f"/reports/{report.pk}/").status_code == 404
    assert sign_in("fiona").get(f"/reports/{report.pk}/edit/").status_code == 404


def test_viewer_cannot_save_to_a_section(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    response = sign_in("frank").post("/reports/new/", _definition(target=_finance_section_id(catalog)))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not ReportDefinition.objects.filter(title="Big open invoices").exists()


def test_editor_cannot_save_to_another_section(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    hr_section = str(catalog["hr_report"].section_id)
    response = sign_in("fiona").post("/reports/new/", _definition(target=hr_section))
    assert response.status_code == 400
    assert not ReportDefinition.objects.filter(title="Big open invoices").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"filters": json.dumps([{"column": "amount", "op": "gt", "value": "lots"}])}, "filters", "a number"),
        ({"filters": json.dumps([{"column": "status", "op": "between", "value": "a"}])}, "filters", "operator"),
        ({"filters": json.dumps([{"column": "bank_account", "op": "eq", "value": "x"}])}, "filters", "unknown"),
        ({"filters": "{not json"}, "filters", "JSON"),
        ({"columns": []}, "columns", "required"),
        ({"columns": ["supplier", "bank_account"]}, "columns", "valid choice"),
        ({"dataset": "hr.headcount"}, "dataset", "valid choice"),
        ({"chart_aggregation": "sum", "chart_y": "supplier"}, "chart_y", "number column"),
        ({"chart_x": ""}, "chart_x", "x axis"),
        ({"chart_bucket": "month"}, "chart_bucket", "date"),
        ({"page_size": "500"}, "page_size", "100"),
        ({"reason": ""}, "reason", "required"),
    ],
)
def test_bad_definitions_are_form_errors(
    catalog: dict[str, Any],
    sign_in: Callable[[str], Client],
    overrides: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = sign_in("frank").post("/reports/new/", _definition(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field]), errors
    assert not ReportDefinition.objects.filter(title="Big open invoices").exists()


def test_edit_changes_the_report_and_keeps_its_id(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    report = catalog["finance_report"]
    client = sign_in("fiona")
    page = client.get(f"/reports/{report.pk}/edit/")
    assert page.status_code == 200
    assert page.context["form"].initial["title"] == report.title
    data = _definition(title="Open invoices (edited)", target=str(report.section_id), reason="Rename")
    response = client.post(f"/reports/{report.pk}/edit/", data)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "Open invoices (edited)"
    assert report.slug == "invoices-by-supplier"  # links keep working
    assert report.history.latest().history_change_reason == "Rename"


def test_section_walls_on_edit_and_preview(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    hr_report = catalog["hr_report"]
    finance_report = catalog["finance_report"]
    fiona = sign_in("fiona")
    assert fiona.get(f"/reports/{hr_report.pk}/edit/").status_code == 404
    assert fiona.post(f"/reports/{hr_report.pk}/edit/", _definition()).status_code == 404
    assert fiona.post(f"/reports/{hr_report.pk}/edit/preview/", _definition()).status_code == 404
    # A viewer sees the finance report but may not edit it.
    frank = sign_in("frank")
    assert frank.get(f"/reports/{finance_report.pk}/").status_code == 200
    assert frank.get(f"/reports/{finance_report.pk}/edit/").status_code == 404
    assert frank.post(f"/reports/{finance_report.pk}/edit/preview/", _definition()).status_code == 404
    assert "data-edit-report" not in frank.get(f"/reports/{finance_report.pk}/").content.decode()
    assert "data-edit-report" in fiona.get(f"/reports/{finance_report.pk}/").content.decode()
    assert sign_in("hana").get("/reports/999999/edit/").status_code == 404


# ---------------------------------------------------------------------------------------------------------------
# Preview
# ---------------------------------------------------------------------------------------------------------------
def test_preview_returns_first_rows_and_chart(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    response = sign_in("frank").post("/reports/new/preview/", _definition(title="", reason=""))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["name"] for c in body["columns"]] == ["supplier", "amount", "status", "invoice_date"]
    assert 0 < len(body["rows"]) <= 10
    assert all(row[2] == "open" and float(row[1]) > 1000 for row in body["rows"])
    amounts = [float(row[1]) for row in body["rows"]]
    assert amounts == sorted(amounts, reverse=True)
    assert body["chart_type"] == "bar"
    assert body["chart"]["labels"] and body["chart"]["datasets"][0]["data"]


def test_preview_bad_input_is_a_400_problem_naming_the_field(
    catalog: dict[str, Any], sign_in: Callable[[str], Client]
) -> None:
    filters = json.dumps([{"column": "status", "op": "eq", "value": "open"}, {"column": "amount", "op": "gt"}])
    response = sign_in("frank").post("/reports/new/preview/", _definition(filters=filters))
    assert response.status_code == 400
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    names = [p["name"] for p in body["invalid_params"]]
    assert "filters[1].value" in names
    hidden = sign_in("frank").post("/reports/new/preview/", _definition(columns=["bank_account"]))
    assert hidden.status_code == 400
    assert "columns" in [p["name"] for p in hidden.json()["invalid_params"]]


def test_preview_and_save_need_csrf(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    client = sign_in("frank")
    client.handler.enforce_csrf_checks = True
    assert client.post("/reports/new/preview/", _definition()).status_code == 403
    assert client.post("/reports/new/", _definition()).status_code == 403


# ---------------------------------------------------------------------------------------------------------------
# Menu items pointing to a report (navigation's "report" target)
# ---------------------------------------------------------------------------------------------------------------
def test_menu_item_can_target_a_section_report(catalog: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    from navigation.menus import build_menu
    from navigation.models import MenuItem, TargetKind
    from navigation.services import save_menu_item

    admin = get_user_model().objects.create(username="menu-editor")
    report = catalog["finance_report"]
    section = report.section
    item = save_menu_item(
        MenuItem(section=section, label="Open invoices", report=report), actor=admin, reason="Link the report"
    )
    assert item.target_kind == TargetKind.REPORT
    assert item.href == f"/reports/{report.pk}/"
    assert any(entry.href == f"/reports/{report.pk}/" for entry in build_menu(section, set(), superuser=True))
    # Another section's report, a personal report, or two targets at once are refused.
    hr = catalog["hr_report"]
    with pytest.raises(ValidationError, match="same section"):
        save_menu_item(MenuItem(section=section, label="HR", report=hr), actor=admin, reason="x")
    personal = ReportDefinition.objects.create(
        owner=admin, title="Mine", slug="mine", dataset=report.dataset, columns=["supplier"]
    )
    with pytest.raises(ValidationError, match="same section"):
        save_menu_item(MenuItem(section=section, label="Mine", report=personal), actor=admin, reason="x")
    with pytest.raises(ValidationError, match="one target"):
        save_menu_item(
            MenuItem(section=section, label="Two", report=report, route_name="home"), actor=admin, reason="x"
        )
