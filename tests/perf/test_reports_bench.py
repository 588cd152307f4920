"""The report table endpoint over 1,000,000 invoices on the harness's private MariaDB, against the same SQL run
directly through the database cursor, in one run. Prints median and p95 of each, and their ratio.

Cases: first page (default sort), a page deep in the result, sort by a non-indexed and by an indexed column, a
global search, and the chart aggregation. The SQL the endpoint runs on the dataset's table is captured with
CaptureQueriesContext and re-run raw (every captured statement, rows fetched), so the ratio is what the platform
adds: the request, session, access checks, the engine's query building and JSON.

Target: first page, indexed sort, search and chart within 1.5x of the raw queries' median.

    ATRIUM_BENCH_INVOICES=1000000 (default) .venv/bin/pytest tests/perf/test_reports_bench.py -p no:cacheprovider -s -q
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.demo import invoice_rows
from reports.models import FinanceInvoice, ReportDefinition

ROWS = int(os.environ.get("ATRIUM_BENCH_INVOICES", "1000000"))
BATCH = 5000
TABLE = FinanceInvoice._meta.db_table
COLUMNS = [
    "invoice_number",
    "supplier",
    "supplier_id",
    "cost_centre",
    "currency",
    "amount",
    "invoice_date",
    "due_date",
    "status",
    "bank_account",
]
TARGET = 1.5
GATED = {"first page", "indexed sort", "search", "chart"}


def bulk_load(first: int, last: int) -> float:
    """Invoices first..last from the seeded generator as multi-row INSERTs (MySQLdb's executemany), in batches."""
    started = time.perf_counter()
    sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    rows = (
        tuple(row[name] for name in COLUMNS)
        for row in invoice_rows(last)
        if int(row["invoice_number"].removeprefix("INV-")) >= first
    )
    with connection.cursor() as cursor:
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
        cursor.execute(f"ANALYZE TABLE {TABLE}")
        cursor.fetchall()
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up: caches, buffer pool
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def datatables(columns: list[str], order: tuple[int, str] | None = None, start: int = 0, search: str = "") -> dict:
    query: dict[str, Any] = {"draw": "1", "start": str(start), "length": "25", "search[value]": search}
    for index, name in enumerate(columns):
        query[f"columns[{index}][data]"] = name
    if order is not None:
        query["order[0][column]"], query["order[0][dir]"] = str(order[0]), order[1]
    return query


@pytest.mark.django_db(transaction=True)
def test_report_endpoint_against_raw_sql_at_scale(demo, sign_in, django_db_blocker):
    if connection.vendor != "mysql":
        pytest.fail("The reports benchmark needs the harness's MariaDB (DATABASE_URL mysql://…).")
    from django.contrib.auth import get_user_model

    from reports.demo import ensure_demo_datasets
    from reports.models import Dataset

    ensure_demo_datasets(invoices=10, headcount=10)
    try:
        load_seconds = bulk_load(11, ROWS)
        assert FinanceInvoice.objects.count() == ROWS
        client = sign_in("fiona")  # finance editor, cleared for the bank account
        fiona = get_user_model().objects.get(username="fiona")
        report = ReportDefinition(
            section=fiona.sections_edited().first() if hasattr(fiona, "sections_edited") else None,
            title="All invoices",
            slug="bench-all-invoices",
            dataset=Dataset.objects.get(key="finance.invoices"),
            columns=["invoice_number", "supplier", "cost_centre", "amount", "currency", "invoice_date", "status"],
            default_sort=["-invoice_date"],
            chart_type="bar",
            chart_x="supplier",
            chart_y="amount",
            chart_aggregation="sum",
        )
        finance_report = ReportDefinition.objects.get(slug="invoices-by-supplier")
        report.section = finance_report.section
        from reports.services import save_report

        save_report(report, actor=fiona, reason="benchmark")
        data = f"/reports/{report.pk}/data/"
        chart = f"/reports/{report.pk}/chart/"
        columns = report.columns
        deep = ROWS // 2
        cases: list[tuple[str, str, dict[str, Any], int]] = [
            ("first page", data, datatables(columns), 15),
            (f"page at row {deep:,}", data, datatables(columns, start=deep), 5),
            ("non-indexed sort", data, datatables(columns, order=(columns.index("currency"), "asc")), 5),
            ("indexed sort", data, datatables(columns, order=(columns.index("amount"), "desc")), 15),
            ("search", data, datatables(columns, search="Globex"), 5),
            ("chart", chart, {}, 5),
        ]
        lines = []
        failures = []
        for name, url, params, runs in cases:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            assert response.status_code == 200, response.content[:300]
            statements = [q["sql"] for q in captured.captured_queries if TABLE in q["sql"]]
            assert statements, name

            def raw(statements: list[str] = statements) -> None:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
                        cursor.fetchall()

            def endpoint(url: str = url, params: dict[str, Any] = params) -> None:
                assert client.get(url, params).status_code == 200

            raw_times = timed(raw, runs)
            endpoint_times = timed(endpoint, runs)
            ratio = statistics.median(endpoint_times) / statistics.median(raw_times)
            lines.append(
                f"| {name} | {len(statements)} | {statistics.median(endpoint_times) * 1000:8.1f} | "
                f"{p95(endpoint_times) * 1000:8.1f} | {statistics.median(raw_times) * 1000:8.1f} | "
                f"{p95(raw_times) * 1000:8.1f} | {ratio:5.2f} |"
            )
            if name in GATED and ratio > TARGET:
                failures.append(f"{name}: {ratio:.2f}")
        print(
            f"\nreports table endpoint, {ROWS:,} invoices (loaded in {load_seconds:.0f} s), medians/p95 in ms\n"
            "| case | SQL statements | endpoint median | endpoint p95 | raw SQL median | raw SQL p95 | ratio |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(lines)
        )
        assert not failures, f"above {TARGET}x the raw SQL: {failures}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE TABLE {TABLE}")  # the flush after a transactional test clears the rest
