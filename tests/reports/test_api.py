"""The reports API: /api/v1/datasets/, /api/v1/reports/ and /api/v1/reports/{id}/data/.

Section walls (another section's report or a dataset the caller may not see is a 404, a finance token reads
nothing of hr), column clearance (a column without clearance never appears), writes through the services with a
reason, and bad input as 400 problems naming the parameter. The generated tests (tests/api/base.py) cover the
report definitions' list/read/create/change/delete rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from reports.models import Dataset, ReportDefinition
from tenants.models import Section
from tests.api.base import ApiModelTests
from tests.api.conftest import assert_problem, bearer, token_for, user  # noqa: F401 - fixtures

REASON = "API test CHG-0002"


def finance_report() -> ReportDefinition:
    return ReportDefinition.objects.get(slug="invoices-by-supplier")


def hr_report() -> ReportDefinition:
    return ReportDefinition.objects.get(slug="headcount-by-department")


def data_url(report: ReportDefinition) -> str:
    return f"/api/v1/reports/{report.pk}/data/"


class TestReportDefinitions(ApiModelTests):
    endpoint = "/api/v1/reports/"
    model = ReportDefinition
    readers_who_cannot_write = ("frank",)
    outsiders = ("hana",)
    # hana may not see the finance dataset: the `dataset` field refuses it before any permission question.
    outsider_create_status = 400
    update_payload = {"title": "Renamed", "page_size": 50}
    invalid_fields = {"columns[1]"}

    @pytest.fixture(autouse=True)
    def _catalog(self, catalog: dict[str, Any]) -> None:
        self.catalog = catalog

    @property
    def invalid_payload(self) -> dict[str, Any]:  # type: ignore[override]
        return {**self.create_payload(), "columns": ["supplier", "no_such_column"]}

    def finance_object(self) -> Any:
        # A report of its own (the demo's finance report is linked from a menu item, which protects it).
        demo = finance_report()
        report, _ = ReportDefinition.objects.get_or_create(
            section=demo.section,
            slug="api-test-report",
            defaults={"title": "API test report", "dataset": demo.dataset, "columns": ["invoice_number", "amount"]},
        )
        return report

    def hr_object(self) -> Any:
        return hr_report()

    def create_payload(self) -> dict[str, Any]:
        return {
            "section": Section.objects.get(slug="finance").pk,
            "title": "Disputed invoices",
            "slug": "disputed-invoices",
            "dataset": Dataset.objects.get(key="finance.invoices").pk,
            "columns": ["invoice_number", "supplier", "amount", "status"],
            "filters": [{"column": "status", "op": "eq", "value": "disputed"}],
            "default_sort": ["-amount"],
        }


# ---------------------------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def api(catalog: dict[str, Any], token_for: Any, bearer: Any) -> Any:  # noqa: F811
    def _client(username: str, **options: Any) -> Any:
        return bearer(token_for(username, **options))

    return _client


def test_datasets_list_only_what_the_caller_may_see(api):
    keys = {row["key"] for row in api("frank").get("/api/v1/datasets/").json()["results"]}
    assert keys == {"finance.invoices"}
    keys = {row["key"] for row in api("hana").get("/api/v1/datasets/").json()["results"]}
    assert keys == {"hr.headcount"}
    keys = {row["key"] for row in api("audrey").get("/api/v1/datasets/").json()["results"]}
    assert keys == {"finance.invoices", "hr.headcount"}


def clear(username: str, group: str = "finance-bank-details") -> None:
    """Give a user a clearance group after their sign-in (which mirrors the directory's groups)."""
    get_user_model().objects.get(username=username).groups.add(Group.objects.get(name=group))


def test_a_dataset_lists_only_the_cleared_columns_with_freshness_and_lineage(api, catalog):
    url = f"/api/v1/datasets/{catalog['invoices'].pk}/"
    frank = api("frank").get(url).json()
    names = [column["name"] for column in frank["columns"]]
    assert "bank_account" not in names and "amount" in names
    assert frank["owner_section_slug"] == "finance"
    assert frank["freshness"]["synced"] is True
    assert frank["lineage"]["sync_source"] == "finance-invoices"
    assert frank["lineage"]["reports"] >= 1
    client = api("fiona")
    clear("fiona")
    fiona = client.get(url).json()
    assert "bank_account" in [column["name"] for column in fiona["columns"]]
    # Platform readers see the dataset, but a clearance is about the data: not the column.
    audrey = api("audrey").get(url).json()
    assert "bank_account" not in [column["name"] for column in audrey["columns"]]


def test_another_sections_dataset_is_404(api, catalog):
    assert_problem(api("fiona").get(f"/api/v1/datasets/{catalog['headcount'].pk}/"), 404)
    assert_problem(api("hana").get(f"/api/v1/datasets/{catalog['invoices'].pk}/"), 404)


def test_a_finance_token_cannot_read_hrs_dataset_or_report(api, catalog):
    client = api("admin", section="finance")
    keys = {row["key"] for row in client.get("/api/v1/datasets/").json()["results"]}
    assert keys == {"finance.invoices"}
    assert_problem(client.get(f"/api/v1/datasets/{catalog['headcount'].pk}/"), 404)
    assert_problem(client.get(f"/api/v1/reports/{hr_report().pk}/"), 404)
    assert_problem(client.get(data_url(hr_report())), 404)
    assert client.get(data_url(finance_report())).status_code == 200


def test_the_owner_sections_editor_changes_dataset_metadata_with_a_reason(api, catalog):
    url = f"/api/v1/datasets/{catalog['invoices'].pk}/"
    response = api("fiona", scope="write").patch(url, {"steward_name": "Frank Fuchs", "reason": REASON}, format="json")
    assert response.status_code == 200, response.content[:500]
    dataset = Dataset.objects.get(pk=catalog["invoices"].pk)
    assert dataset.steward_name == "Frank Fuchs"
    assert dataset.history.filter(history_change_reason=REASON, history_user__username="fiona").exists()
    # The key and the owner are not the API's to change.
    response = api("fiona", scope="write").patch(url, {"key": "finance.other"}, format="json")
    assert response.status_code == 200
    assert Dataset.objects.get(pk=dataset.pk).key == "finance.invoices"


def test_dataset_metadata_is_not_changed_by_readers_or_other_sections(api, catalog):
    url = f"/api/v1/datasets/{catalog['invoices'].pk}/"
    assert_problem(api("frank", scope="write").patch(url, {"title": "x"}, format="json"), 403)
    assert_problem(api("hana", scope="write").patch(url, {"title": "x"}, format="json"), 404)
    assert_problem(api("audrey", scope="write").patch(url, {"title": "x"}, format="json"), 403)
    assert_problem(api("fiona").patch(url, {"title": "x"}, format="json"), 403)  # read token
    assert api("admin", scope="write").patch(url, {"title": "Invoices"}, format="json").status_code == 200
    body = assert_problem(api("admin", scope="write").patch(url, {"steward_email": "nope"}, format="json"), 400)
    assert {p["name"] for p in body["invalid_params"]} == {"steward_email"}


# ---------------------------------------------------------------------------------------------------------------
# Personal reports
# ---------------------------------------------------------------------------------------------------------------
def test_personal_reports_belong_to_their_owner(api, catalog):
    payload = {
        "section": None,
        "title": "My invoices",
        "slug": "my-invoices",
        "dataset": catalog["invoices"].pk,
        "columns": ["invoice_number", "amount"],
        "reason": REASON,
    }
    response = api("frank", scope="write").post("/api/v1/reports/", payload, format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["owner"] == "frank" and body["section"] is None
    url = f"/api/v1/reports/{body['id']}/"
    assert_problem(api("fiona", scope="write").get(url), 404)
    assert_problem(api("fiona", scope="write").patch(url, {"title": "Mine"}, format="json"), 404)
    assert_problem(api("admin", scope="write").patch(url, {"title": "Mine"}, format="json"), 404)
    assert api("frank", scope="write").patch(url, {"title": "Mine"}, format="json").json()["title"] == "Mine"
    assert api("frank").get(f"{url}data/").status_code == 200
    assert api("frank", scope="write").delete(url, {"reason": REASON}, format="json").status_code == 204


def test_a_report_cannot_move_to_another_section(api):
    url = f"/api/v1/reports/{finance_report().pk}/"
    hr = Section.objects.get(slug="hr")
    body = assert_problem(api("admin", scope="write").patch(url, {"section": hr.pk}, format="json"), 400)
    assert {p["name"] for p in body["invalid_params"]} == {"section"}


def test_definition_errors_name_the_field(api, catalog):
    base = {
        "section": Section.objects.get(slug="finance").pk,
        "title": "Broken",
        "slug": "broken",
        "dataset": catalog["invoices"].pk,
        "columns": ["supplier", "amount"],
    }
    client = api("fiona", scope="write")
    cases = [
        ({"filters": [{"column": "amount", "op": "contains", "value": "1"}]}, "filters[0].op"),
        ({"default_sort": ["-nope"]}, "default_sort[0]"),
        ({"chart_type": "bar", "chart_x": "supplier", "chart_aggregation": "sum", "chart_y": "status"}, "chart_y"),
        ({"page_size": 1000}, "page_size"),
    ]
    for extra, field in cases:
        body = assert_problem(client.post("/api/v1/reports/", {**base, **extra}, format="json"), 400)
        assert field in {p["name"] for p in body["invalid_params"]}, body
    assert not ReportDefinition.objects.filter(slug="broken").exists()


# ---------------------------------------------------------------------------------------------------------------
# A report's data
# ---------------------------------------------------------------------------------------------------------------
def test_data_pages_sorts_and_filters_like_the_table(api):
    report = finance_report()
    client = api("fiona")
    body = client.get(data_url(report), {"limit": 5}).json()
    assert body["limit"] == 5 and body["offset"] == 0 and len(body["results"]) == 5
    assert body["columns"] == report.columns
    assert all(row["status"] == "open" for row in body["results"])  # the report's own filter always applies
    amounts = [float(row["amount"]) for row in body["results"]]
    assert amounts == sorted(amounts, reverse=True)  # the report's sort
    assert body["count"] == body["total"] > 5
    second = client.get(data_url(report), {"limit": 5, "offset": 5}).json()["results"]
    assert not {r["invoice_number"] for r in second} & {r["invoice_number"] for r in body["results"]}

    rows = client.get(data_url(report), {"ordering": "supplier,-amount", "limit": 100}).json()["results"]
    assert [r["supplier"] for r in rows] == sorted(r["supplier"] for r in rows)

    filtered = client.get(
        data_url(report), {"filter": ["amount:gte:1000", "supplier:startswith:Acme"], "limit": 100}
    ).json()
    assert 0 < filtered["count"] == filtered["total"] < body["total"]  # total: before `search`, after `filter`
    assert all(float(r["amount"]) >= 1000 and r["supplier"].startswith("Acme") for r in filtered["results"])

    searched = client.get(data_url(report), {"search": "Globex", "columns": "invoice_number,supplier"}).json()
    assert searched["columns"] == ["invoice_number", "supplier"]
    assert searched["results"] and all(r["supplier"] == "Globex Consulting" for r in searched["results"])
    assert searched["count"] < searched["total"]


def test_data_never_shows_a_column_without_clearance(api, catalog):
    report = finance_report()
    report.columns = [*report.columns, "bank_account"]
    report.save()
    client = api("fiona")
    clear("fiona")
    fiona = client.get(data_url(report)).json()
    assert "bank_account" in fiona["columns"] and "bank_account" in fiona["results"][0]
    frank = api("frank").get(data_url(report)).json()
    assert "bank_account" not in frank["columns"]
    assert all("bank_account" not in row for row in frank["results"])
    for params in ({"columns": "bank_account"}, {"ordering": "bank_account"}, {"filter": "bank_account:eq:x"}):
        body = assert_problem(api("frank").get(data_url(report), params), 400)
        assert body["invalid_params"][0]["name"].startswith(next(iter(params))), body
    # The search does not look into it either.
    iban = fiona["results"][0]["bank_account"]
    assert api("frank").get(data_url(report), {"search": iban}).json()["count"] == 0


def test_data_of_another_sections_report_is_404(api):
    assert_problem(api("fiona").get(data_url(hr_report())), 404)
    assert_problem(api("hana").get(data_url(finance_report())), 404)
    assert_problem(api("fiona").get("/api/v1/reports/999999/data/"), 404)
    assert api("hana").get(data_url(hr_report())).status_code == 200


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": "1000000"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "99999999999"}, "offset"),
        ({"ordering": "nope"}, "ordering[0]"),
        ({"ordering": "supplier,-nope"}, "ordering[1]"),
        ({"columns": "supplier,nope"}, "columns[1]"),
        ({"columns": "supplier,supplier"}, "columns"),
        ({"filter": "nope:eq:1"}, "filter[0].column"),
        ({"filter": "amount:contains:1"}, "filter[0].op"),
        ({"filter": "supplier:gt:A"}, "filter[0].op"),
        ({"filter": "amount:gte:lots"}, "filter[0].value"),
        ({"filter": "due_date:lt:31/12/2026"}, "filter[0].value"),
        ({"filter": ["amount:gte:1", "amount:between:1"]}, "filter[1].value"),
        ({"filter": [f"amount:gte:{i}" for i in range(31)]}, "filter"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_bad_data_parameters_are_400_problems_naming_the_parameter(api, params, name):
    body = assert_problem(api("fiona").get(data_url(finance_report()), params), 400)
    assert [p["name"] for p in body["invalid_params"]] == [name], body


def test_isnull_and_in_filters(api):
    client = api("fiona")
    body = client.get(data_url(finance_report()), {"filter": "due_date:isnull", "limit": 1}).json()
    assert body["count"] == 0
    body = client.get(data_url(finance_report()), {"filter": "due_date:isnull:false", "limit": 1}).json()
    assert body["count"] == body["total"]
    body = client.get(data_url(finance_report()), {"filter": "currency:in:EUR,GBP", "limit": 100}).json()
    assert body["results"] and {r["currency"] for r in body["results"]} <= {"EUR", "GBP"}


def test_data_needs_a_signed_in_caller(catalog):
    from rest_framework.test import APIClient

    assert_problem(APIClient().get(data_url(finance_report())), 401)


def test_a_report_restricted_to_groups_is_404_for_others(api):
    report = finance_report()
    report.allowed_groups.set([Group.objects.get_or_create(name="finance-controllers")[0]])
    assert_problem(api("frank").get(data_url(report)), 404)
    get_user_model().objects.get(username="frank").groups.add(Group.objects.get(name="finance-controllers"))
    assert api("frank").get(data_url(report)).status_code == 200
