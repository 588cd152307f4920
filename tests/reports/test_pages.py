"""The catalog and report pages, their JSON endpoints and exports: visibility, clearance, 404s, audit, staleness."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import SecurityEvent
from jobs.sync_models import SourceFreshness
from reports import services
from reports.models import ReportDefinition

from .conftest import INVOICES

DATA = "?draw=1&start=0&length=10"


def _urls(report: ReportDefinition) -> dict[str, str]:
    base = f"/reports/{report.pk}/"
    return {
        "page": base,
        "data": base + "data/" + DATA,
        "chart": base + "chart/",
        "csv": base + "export.csv",
        "xlsx": base + "export.xlsx",
    }


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# ---------------------------------------------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------------------------------------------
def test_catalog_lists_only_datasets_i_may_see(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    page = sign_in("frank").get("/catalog/").content.decode()
    assert 'data-dataset="finance.invoices"' in page
    assert 'data-dataset="hr.headcount"' not in page
    assert sign_in("frank").get("/catalog/hr.headcount/").status_code == 404
    assert sign_in("hana").get("/catalog/finance.invoices/").status_code == 404
    found = sign_in("frank").get("/catalog/?q=accounts-payable").content.decode()
    assert 'data-dataset="finance.invoices"' in found


def test_the_header_search_box_searches_the_data_catalog(catalog: dict[str, Any], sign_in: Any) -> None:
    frank = sign_in("frank")
    header = frank.get("/finance/").content.decode()
    assert (
        'action="/catalog/"' in header
        and 'id="atrium-search"' in header
        and "disabled" not in header.split('id="atrium-search"')[1].split(">")[0]
    )
    assert 'id="atrium-search"' not in Client().get("/accounts/login/").content.decode()  # signed out: no search


def test_dataset_page_shows_lineage_freshness_steward_and_only_visible_columns(
    catalog: dict[str, Any], sign_in: Callable[[str], Client]
) -> None:
    page = sign_in("frank").get("/catalog/finance.invoices/").content.decode()
    assert 'data-column="supplier"' in page
    assert 'data-column="bank_account"' not in page
    assert "Supplier bank account" not in page
    assert 'data-hidden-columns="1"' in page
    assert "sync.finance-invoices" in page and "Accounts-payable platform" in page
    assert catalog["finance_report"].title in page
    assert "fiona@example.com" in page
    assert 'data-freshness="fresh"' in page
    assert "DE" not in page.split("data-sample-rows", 1)[1].split("</table>", 1)[0]  # no IBAN in the samples


def test_cleared_user_sees_the_sensitive_column(catalog: dict[str, Any], cleared: Any) -> None:
    page = cleared("frank", "finance-bank-details").get("/catalog/finance.invoices/").content.decode()
    assert 'data-column="bank_account"' in page


def test_stale_dataset_shows_red_badge_on_catalog_and_reports(
    catalog: dict[str, Any], sign_in: Callable[[str], Client]
) -> None:
    source = catalog["invoices"].sync_source
    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(days=2))
    client = sign_in("frank")
    assert 'data-freshness="stale"' in client.get("/catalog/").content.decode()
    assert 'data-freshness="stale"' in client.get("/catalog/finance.invoices/").content.decode()
    page = client.get(_urls(catalog["finance_report"])["page"]).content.decode()
    assert 'data-freshness="stale"' in page and "text-bg-danger" in page


# ---------------------------------------------------------------------------------------------------------------
# Column clearance on every path
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def bank_report(catalog: dict[str, Any]) -> ReportDefinition:
    """A finance report that lists the bank account and charts by it."""
    report = ReportDefinition(
        section=catalog["finance_report"].section,
        dataset=catalog["invoices"],
        title="Payments",
        slug="payments",
        columns=["invoice_number", "supplier", "bank_account", "amount"],
        default_sort=["invoice_number"],
        chart_type="bar",
        chart_x="bank_account",
        chart_aggregation="count",
    )
    return services.save_report(report, actor=None, reason="test")


def test_uncleared_user_never_receives_the_column(bank_report: ReportDefinition, sign_in: Any) -> None:
    client = sign_in("frank")
    urls = _urls(bank_report)
    page = client.get(urls["page"]).content.decode()
    assert 'data-column="bank_account"' not in page and 'data-hidden-columns="1"' in page
    data = client.get(urls["data"]).json()
    assert data["data"] and all("bank_account" not in row for row in data["data"])
    assert client.get(urls["chart"]).status_code == 403
    rows = list(csv.reader(io.StringIO(_body(client.get(urls["csv"])).decode())))
    assert rows[0] == ["Invoice", "Supplier", "Amount"]
    assert not any(cell.startswith("DE") for row in rows for cell in row)
    sheet = load_workbook(io.BytesIO(_body(client.get(urls["xlsx"]))), read_only=True).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == ["Invoice", "Supplier", "Amount"]
    # Asking for it by index, search or order is refused, not answered.
    assert client.get(urls["data"] + "&columns[3][search][value]=DE").status_code == 400
    assert client.get(urls["data"] + "&order[0][column]=3&order[0][dir]=asc").status_code == 400


def test_cleared_user_receives_the_column(bank_report: ReportDefinition, cleared: Any) -> None:
    client = cleared("frank", "finance-bank-details")
    urls = _urls(bank_report)
    assert 'data-column="bank_account"' in client.get(urls["page"]).content.decode()
    assert all(row["bank_account"].startswith("DE") for row in client.get(urls["data"]).json()["data"])
    assert client.get(urls["chart"]).status_code == 200
    header = _body(client.get(urls["csv"])).decode().splitlines()[0]
    assert "Supplier bank account" in header


def test_auditors_and_admins_need_the_clearance_too(bank_report: ReportDefinition, sign_in: Any) -> None:
    for username in ("audrey", "admin"):
        rows = sign_in(username).get(_urls(bank_report)["data"]).json()["data"]
        assert rows and all("bank_account" not in row for row in rows)


# ---------------------------------------------------------------------------------------------------------------
# Other sections, personal reports, group-limited reports
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["page", "data", "chart", "csv", "xlsx"])
def test_another_sections_report_is_404(catalog: dict[str, Any], sign_in: Any, kind: str) -> None:
    assert sign_in("hana").get(_urls(catalog["finance_report"])[kind]).status_code == 404
    assert sign_in("frank").get(_urls(catalog["hr_report"])[kind]).status_code == 404


@pytest.mark.parametrize("kind", ["page", "data", "chart", "csv"])
def test_anonymous_is_sent_to_sign_in_or_401(catalog: dict[str, Any], kind: str) -> None:
    response = Client().get(_urls(catalog["finance_report"])[kind])
    assert response.status_code == (302 if kind == "page" else 401)


def test_personal_report_is_seen_by_its_owner_only(catalog: dict[str, Any], sign_in: Any) -> None:
    client = sign_in("fiona")
    fiona = get_user_model().objects.get(username="fiona")
    mine = services.save_report(
        ReportDefinition(
            owner=fiona, dataset=catalog["invoices"], title="Mine", slug="mine", columns=["supplier", "amount"]
        ),
        actor=fiona,
        reason="test",
    )
    assert client.get(f"/reports/{mine.pk}/").status_code == 200
    assert client.get(f"/reports/{mine.pk}/data/{DATA}").status_code == 200
    assert sign_in("frank").get(f"/reports/{mine.pk}/").status_code == 404
    assert sign_in("frank").get(f"/reports/{mine.pk}/export.csv").status_code == 404


def test_report_limited_to_groups(catalog: dict[str, Any], sign_in: Any) -> None:
    from django.contrib.auth.models import Group

    report = catalog["finance_report"]
    services.save_report(
        report, actor=None, reason="editors only", allowed_groups=[Group.objects.get(name="finance-editors")]
    )
    assert sign_in("frank").get(f"/reports/{report.pk}/").status_code == 404
    assert sign_in("fiona").get(f"/reports/{report.pk}/").status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# Table endpoint, chart, exports
# ---------------------------------------------------------------------------------------------------------------
def test_table_endpoint_speaks_datatables(catalog: dict[str, Any], sign_in: Any) -> None:
    client = sign_in("frank")
    base = _urls(catalog["finance_report"])["data"]
    body = client.get(base).json()
    assert body["draw"] == 1 and body["recordsTotal"] == body["recordsFiltered"] > 0
    amounts = [float(r["amount"]) for r in body["data"]]
    assert amounts == sorted(amounts, reverse=True)  # the report's default sort
    assert {r["status"] for r in body["data"]} == {"open"}  # the report's fixed filter
    searched = client.get(base + "&search[value]=northwind").json()
    assert searched["recordsFiltered"] < searched["recordsTotal"]
    assert all(r["supplier"] == "Northwind Traders" for r in searched["data"])
    by_column = client.get(base + "&columns[1][data]=supplier&columns[1][search][value]=acme").json()
    assert by_column["data"] and all("Acme" in r["supplier"] for r in by_column["data"])
    ordered = client.get(base + "&order[0][column]=0&order[0][dir]=asc").json()
    numbers = [r["invoice_number"] for r in ordered["data"]]
    assert numbers == sorted(numbers)


@pytest.mark.parametrize(
    "query",
    [
        "?draw=1&start=0&length=1000000",
        "?draw=1&start=-1&length=10",
        "?draw=x&start=0&length=10",
        "?draw=1&start=0&length=10&order[0][column]=99",
        "?draw=1&start=0&length=10&order[0][column]=0&order[0][dir]=sideways",
        "?draw=1&start=0&length=10&columns[0][data]=bank_account",
        "?draw=1&start=0&length=10&columns[3][search][value]=lots",  # amount is a number
        "?draw=1&start=0&length=10&search[regex]=true",
        "?draw=1&start=0&length=10&order[0][column]=0;DROP TABLE reports_financeinvoice",
        "?draw=1&start=0&length=10&order[0][column]=0&order[0][dir]=asc,(SELECT 1)",
    ],
)
def test_bad_table_requests_are_400_problems(catalog: dict[str, Any], sign_in: Any, query: str) -> None:
    response = sign_in("frank").get(f"/reports/{catalog['finance_report'].pk}/data/{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["invalid_params"][0]["name"]


@pytest.mark.parametrize("attack", ["x' OR '1'='1", "1; DROP TABLE reports_financeinvoice; --", "%' UNION SELECT 1 --"])
def test_injection_in_searches_is_a_literal(catalog: dict[str, Any], sign_in: Any, attack: str) -> None:
    from urllib.parse import quote

    client = sign_in("frank")
    base = _urls(catalog["finance_report"])["data"]
    assert client.get(base + "&search[value]=" + quote(attack)).json()["recordsFiltered"] == 0
    assert client.get(base + "&columns[1][search][value]=" + quote(attack)).json()["recordsFiltered"] == 0
    assert (
        _body(client.get(_urls(catalog["finance_report"])["csv"] + "?search[value]=" + quote(attack))).count(b"\n") == 1
    )
    from reports.models import FinanceInvoice

    assert FinanceInvoice.objects.count() == INVOICES


def test_chart_endpoint(catalog: dict[str, Any], sign_in: Any) -> None:
    data = sign_in("hana").get(_urls(catalog["hr_report"])["chart"]).json()
    assert data["labels"] and data["datasets"][0]["label"] == "Rows"


def test_export_is_the_current_result_and_is_recorded(catalog: dict[str, Any], sign_in: Any) -> None:
    client = sign_in("frank")
    report = catalog["finance_report"]
    response = client.get(_urls(report)["csv"] + "?search[value]=northwind&order[0][column]=3&order[0][dir]=asc")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith('attachment; filename="invoices-by-supplier-')
    rows = list(csv.reader(io.StringIO(_body(response).decode())))
    assert rows[0] == ["Invoice", "Supplier", "Cost centre", "Amount", "Currency", "Due date", "Status"]
    assert rows[1:] and all(r[1] == "Northwind Traders" and r[6] == "open" for r in rows[1:])
    amounts = [float(r[3]) for r in rows[1:]]
    assert amounts == sorted(amounts)
    event = SecurityEvent.objects.filter(event_type="export").latest("created")
    assert event.username == "frank" and event.section_slug == "finance"
    assert event.detail["report"] == report.pk and event.detail["rows"] == len(rows) - 1
    assert event.detail["search"] == "northwind" and event.detail["format"] == "csv"
    assert event.detail["filters"] == [{"column": "status", "op": "eq", "value": "open"}]


def test_xlsx_export(catalog: dict[str, Any], sign_in: Any) -> None:
    response = sign_in("hana").get(_urls(catalog["hr_report"])["xlsx"])
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(_body(response)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Employee" and len(rows) > 1
    assert "Annual salary" not in rows[0]
    assert SecurityEvent.objects.filter(event_type="export", detail__format="xlsx").exists()


def test_report_list(catalog: dict[str, Any], sign_in: Any) -> None:
    page = sign_in("frank").get("/reports/").content.decode()
    assert catalog["finance_report"].title in page and catalog["hr_report"].title not in page


def test_report_page_is_csp_clean_and_starts_in_the_default_sort(catalog: dict[str, Any], sign_in: Any) -> None:
    page = sign_in("frank").get(_urls(catalog["finance_report"])["page"]).content.decode()
    assert 'data-default-order="[[3, &quot;desc&quot;]]"' in page  # amount is the 4th column, descending
    assert "reports/report.js" in page and "<script>" not in page and " style=" not in page
    assert 'data-chart-url="/reports/' in page


def test_a_definition_that_no_longer_fits_its_dataset_is_explained(catalog: dict[str, Any], sign_in: Any) -> None:
    report = catalog["finance_report"]
    ReportDefinition.objects.filter(pk=report.pk).update(filters=[{"column": "gone", "op": "eq", "value": "x"}])
    client = sign_in("frank")
    assert client.get(_urls(report)["page"]).status_code == 409
    assert client.get(_urls(report)["data"]).status_code == 400
