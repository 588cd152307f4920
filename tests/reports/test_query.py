"""The query engine: whitelisted columns only, values as parameters, operators by type, clear errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict

from reports.datasets import FINANCE_INVOICES, HR_HEADCOUNT
from reports.demo import seed_headcount, seed_invoices
from reports.models import FinanceInvoice
from reports.query import ChartRequest, DatasetQuery, QueryError, TableRequest, parse_datatables

pytestmark = pytest.mark.django_db
VISIBLE = [c for c in FINANCE_INVOICES.column_names if c != "bank_account"]


@pytest.fixture
def invoices() -> DatasetQuery:
    seed_invoices(200)
    return DatasetQuery(FINANCE_INVOICES, VISIBLE)


def _error(call: Any) -> QueryError:
    with pytest.raises(QueryError) as caught:
        call()
    return caught.value


def test_filters_by_type_match_the_orm(invoices: DatasetQuery) -> None:
    filters = invoices.parse_filters(
        [
            {"column": "status", "op": "eq", "value": "open"},
            {"column": "amount", "op": "between", "value": ["100", "5000.50"]},
            {"column": "invoice_date", "op": "gte", "value": "2024-01-01"},
            {"column": "currency", "op": "in", "value": "EUR,USD"},
        ]
    )
    expected = FinanceInvoice.objects.filter(
        status="open",
        amount__range=(Decimal("100"), Decimal("5000.50")),
        invoice_date__gte="2024-01-01",
        currency__in=["EUR", "USD"],
    ).count()
    page = invoices.page(TableRequest(columns=["invoice_number", "amount"], filters=filters, length=100))
    assert page.total == expected > 0
    assert all(100 <= float(row["amount"]) <= 5000.5 for row in page.rows)


def test_ne_contains_startswith_isnull(invoices: DatasetQuery) -> None:
    def count(raw: dict[str, Any]) -> int:
        return invoices.count(TableRequest(columns=["invoice_number"], filters=invoices.parse_filters([raw])))

    assert (
        count({"column": "status", "op": "ne", "value": "paid"})
        == FinanceInvoice.objects.exclude(status="paid").count()
    )
    assert (
        count({"column": "supplier", "op": "contains", "value": "acme"})
        == FinanceInvoice.objects.filter(supplier__icontains="acme").count()
    )
    assert count({"column": "invoice_number", "op": "startswith", "value": "INV-00001"}) == 100
    assert count({"column": "due_date", "op": "isnull", "value": True}) == 0


def test_ordering_paging_and_search(invoices: DatasetQuery) -> None:
    page = invoices.page(
        TableRequest(columns=["invoice_number", "amount"], order=[("amount", True)], start=10, length=5)
    )
    amounts = [Decimal(row["amount"]) for row in page.rows]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 5
    top = FinanceInvoice.objects.order_by("-amount", "pk").values_list("invoice_number", flat=True)[10:15]
    assert [row["invoice_number"] for row in page.rows] == list(top)
    found = invoices.page(TableRequest(columns=["supplier"], search="northwind", length=100))
    assert found.filtered == FinanceInvoice.objects.filter(supplier__icontains="northwind").count()
    assert found.total == 200
    by_column = invoices.page(TableRequest(columns=["supplier", "status"], column_search={"status": "disputed"}))
    assert by_column.filtered == FinanceInvoice.objects.filter(status__icontains="disputed").count()


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"column": "nope", "op": "eq", "value": "x"}, "filters[0].column", "unknown column"),
        ({"column": "bank_account", "op": "eq", "value": "x"}, "filters[0].column", "unknown column"),
        ({"column": "supplier", "op": "gt", "value": "x"}, "filters[0].op", "does not fit"),
        ({"column": "amount", "op": "contains", "value": "1"}, "filters[0].op", "does not fit"),
        ({"column": "amount", "op": "eq", "value": "12,50"}, "filters[0].value", "number"),
        ({"column": "invoice_date", "op": "eq", "value": "31/01/2024"}, "filters[0].value", "YYYY-MM-DD"),
        ({"column": "amount", "op": "between", "value": ["1"]}, "filters[0].value", "two values"),
        ({"column": "amount", "op": "eq", "value": {"$gt": 1}}, "filters[0].value", "one decimal value"),
    ],
)
def test_bad_filters_say_what_and_where(invoices: DatasetQuery, raw: dict[str, Any], field: str, words: str) -> None:
    error = _error(lambda: invoices.parse_filters([raw]))
    assert error.field == field
    assert words in error.message


def test_page_size_and_offset_limits(invoices: DatasetQuery) -> None:
    assert _error(lambda: invoices.page(TableRequest(columns=["supplier"], length=1_000_000))).field == "length"
    assert _error(lambda: invoices.page(TableRequest(columns=["supplier"], start=-1))).field == "start"
    assert _error(lambda: invoices.page(TableRequest(columns=["bank_account"]))).field == "columns[0]"


def test_aggregation_sums_in_the_database(invoices: DatasetQuery) -> None:
    data = invoices.aggregate(ChartRequest(x="currency", y="amount", aggregation="sum"))
    eur = sum(FinanceInvoice.objects.filter(currency="EUR").values_list("amount", flat=True))
    assert data["datasets"][0]["data"][data["labels"].index("EUR")] == pytest.approx(float(eur), abs=0.01)
    grouped = invoices.aggregate(ChartRequest(x="invoice_date", bucket="year", group_by="status"))
    assert set(grouped["labels"]) <= {"2023", "2024"}
    assert {d["label"] for d in grouped["datasets"]} == {"open", "paid", "disputed"}
    assert sum(sum(d["data"]) for d in grouped["datasets"]) == 200


@pytest.mark.parametrize(
    ("chart", "field"),
    [
        (ChartRequest(x="supplier", y="supplier", aggregation="sum"), "chart.y"),
        (ChartRequest(x="supplier", y="bank_account", aggregation="max"), "chart.y"),
        (ChartRequest(x="supplier", aggregation="median"), "chart.aggregation"),
        (ChartRequest(x="supplier", bucket="month"), "chart.bucket"),
        (ChartRequest(x="1; DROP TABLE reports_financeinvoice"), "chart.x"),
    ],
)
def test_bad_charts_are_refused(invoices: DatasetQuery, chart: ChartRequest, field: str) -> None:
    assert _error(lambda: invoices.aggregate(chart)).field == field


INJECTIONS = ["x' OR '1'='1", "1; DROP TABLE reports_financeinvoice; --", "amount) OR 1=1 --", "%' --"]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_in_values_and_searches_is_a_literal(invoices: DatasetQuery, attack: str) -> None:
    filters = invoices.parse_filters([{"column": "supplier", "op": "eq", "value": attack}])
    assert invoices.count(TableRequest(columns=["supplier"], filters=filters)) == 0
    assert invoices.count(TableRequest(columns=["supplier"], search=attack)) == 0
    assert invoices.count(TableRequest(columns=["supplier"], column_search={"supplier": attack})) == 0
    assert FinanceInvoice.objects.count() == 200  # the table is still there


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_in_names_and_operators_is_refused(invoices: DatasetQuery, attack: str) -> None:
    assert _error(lambda: invoices.parse_filters([{"column": attack, "op": "eq", "value": "1"}])).field
    assert _error(lambda: invoices.parse_filters([{"column": "supplier", "op": attack, "value": "1"}])).field
    assert _error(lambda: invoices.page(TableRequest(columns=["supplier"], order=[(attack, False)]))).field
    assert _error(lambda: invoices.page(TableRequest(columns=[attack]))).field
    for key in ("order[0][column]", "order[0][dir]", "columns[0][data]", "start", "length", "draw"):
        query = QueryDict(mutable=True)
        query.update({"draw": "1", "start": "0", "length": "10", "order[0][column]": "0"})
        query[key] = attack
        assert _error(lambda q=query: parse_datatables(q, invoices, ["supplier"])).field == key


def test_headcount_boolean_and_numbers() -> None:
    seed_headcount(50)
    engine = DatasetQuery(HR_HEADCOUNT, [c for c in HR_HEADCOUNT.column_names if c != "salary"])
    active = engine.parse_filters([{"column": "active", "op": "eq", "value": "true"}])
    assert active[0].value is True
    assert _error(lambda: engine.parse_filters([{"column": "active", "op": "eq", "value": "maybe"}])).field
    assert _error(lambda: engine.parse_filters([{"column": "fte", "op": "gt", "value": "lots"}])).field
    assert engine.count(TableRequest(columns=["employee_id"], filters=active)) <= 50
