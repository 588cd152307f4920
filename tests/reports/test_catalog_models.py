"""Catalog metadata and report definitions: validation against the registry, history, seeding, the code syncs."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from jobs.runner import run_job
from jobs.sync_models import SyncChange
from reports import services
from reports.demo import invoice_row, seed_invoices
from reports.models import Dataset, DatasetColumn, FinanceInvoice, HeadcountRecord, ReportDefinition

pytestmark = pytest.mark.django_db


def _report(catalog: dict[str, Any], **values: Any) -> ReportDefinition:
    fields = {
        "section": catalog["finance_report"].section,
        "dataset": catalog["invoices"],
        "title": "T",
        "slug": "t",
        "columns": ["supplier", "amount"],
        **values,
    }
    return ReportDefinition(**fields)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"columns": ["supplier", "salary"]}, "columns"),
        ({"columns": []}, "columns"),
        ({"filters": [{"column": "amount", "op": "contains", "value": "1"}]}, "filters"),
        ({"filters": [{"column": "invoice_date", "op": "gt", "value": "yesterday"}]}, "filters"),
        ({"default_sort": ["-nope"]}, "default_sort"),
        ({"chart_type": "bar", "chart_x": "supplier", "chart_aggregation": "sum", "chart_y": "status"}, "chart_y"),
        ({"chart_type": "bar", "chart_x": "nope"}, "chart_x"),
        ({"chart_type": "radar", "chart_x": "supplier"}, "chart_type"),
        ({"page_size": 1000}, "page_size"),
    ],
)
def test_report_definition_is_validated_against_its_dataset(
    catalog: dict[str, Any], values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.save_report(_report(catalog, **values), actor=None, reason="test")
    assert any(key.startswith(field) for key in caught.value.message_dict), caught.value.message_dict


def test_report_needs_a_section_or_an_owner_not_both(catalog: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        services.save_report(_report(catalog, section=None), actor=None, reason="test")


def test_changes_are_recorded_with_who_and_why(catalog: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    report = catalog["finance_report"]
    report.title = "Open invoices (renamed)"
    services.save_report(report, actor=admin, reason="clearer title")
    latest = report.history.latest()
    assert latest.history_change_reason == "clearer title" and latest.history_user == admin
    dataset = catalog["invoices"]
    dataset.steward_email = "ap-team@example.com"
    services.save_dataset(dataset, actor=admin, reason="new steward")
    assert dataset.history.latest().history_change_reason == "new steward"


def test_dataset_and_column_must_match_the_registry(catalog: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        services.save_dataset(Dataset(key="nope.nothing", title="x"), actor=None, reason="test")
    with pytest.raises(ValidationError):
        services.save_column(DatasetColumn(dataset=catalog["invoices"], name="salary"), actor=None, reason="test")


def test_demo_is_idempotent(catalog: dict[str, Any]) -> None:
    from reports.demo import ensure_demo_datasets

    lines = ensure_demo_datasets(invoices=300, headcount=120)
    assert "finance.invoices: 0 rows added (300 wanted)" in lines
    assert not any("saved" in line or "created" in line for line in lines)
    assert ReportDefinition.objects.count() == 2


def test_seed_command_is_deterministic_and_resizes() -> None:
    call_command("seed_datasets", invoices=1200, headcount=30)
    assert FinanceInvoice.objects.count() == 1200 and HeadcountRecord.objects.count() == 30
    first = FinanceInvoice.objects.get(invoice_number="INV-0000007")
    assert str(first.amount) == invoice_row(7)["amount"] and first.supplier == invoice_row(7)["supplier"]
    call_command("seed_datasets", invoices=500)
    assert FinanceInvoice.objects.count() == 500 and HeadcountRecord.objects.count() == 30
    assert seed_invoices(500) == 0


def test_code_sync_fills_its_model_and_audits_changes(catalog: dict[str, Any]) -> None:
    # After seeding, the sync finds nothing to change; a row edited locally is put back, with an audit entry.
    FinanceInvoice.objects.filter(invoice_number="INV-0000003").update(supplier="Tampered Ltd")
    FinanceInvoice.objects.filter(invoice_number="INV-0000004").delete()
    run = run_job("sync.finance-invoices")
    assert getattr(run, "outcome", "") == "success", getattr(run, "message", run)
    assert FinanceInvoice.objects.get(invoice_number="INV-0000003").supplier == invoice_row(3)["supplier"]
    changes = {c.key: c.action for c in SyncChange.objects.filter(run=run)}
    assert changes == {"INV-0000003": "~", "INV-0000004": "+"}
    assert FinanceInvoice.objects.count() == 300
