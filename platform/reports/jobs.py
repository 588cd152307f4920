"""The demo datasets' code syncs: the AP system's invoices and the HR system's headcount, into their own tables.

Each is a `jobs.sync.Sync` subclass that targets its own model (not SyncedRecord) and is registered with
`register_sync`, so a SyncSource of kind "code" with code name `reports.finance-invoices` or `reports.headcount`
runs it as the job `sync.<slug>`. The demo's "source" is the seeded generator in reports.demo: it answers rows
1..N, N being the highest key held locally (or the demo volume when none is), so a run after `seed_datasets`
changes nothing, and a real connector only has to replace `fetch()`.

Imported at start-up by JobsConfig.ready() (every app's jobs.py is).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from jobs.fetchers import Fetched
from jobs.sync import Row, Sync, register_sync

from . import demo
from .models import FinanceInvoice, HeadcountRecord


class ModelSync(Sync):
    """A sync into one model whose unique key field is `target_key_field`; the fields are the record's keys."""

    model: type[models.Model]
    fields: tuple[str, ...] = ()
    demo_volume = 0

    def generate(self, count: int) -> list[Row]:  # pragma: no cover - each subclass says
        raise NotImplementedError

    def fetch(self) -> Fetched:
        # The demo source holds as many rows as the highest key seeded locally (keys are numbered 1..N), so a row
        # deleted or changed locally comes back as the source has it.
        last = (
            self.target_queryset().order_by(f"-{self.target_key_field}").values_list(self.target_key_field, flat=True)
        )
        highest = last.first()
        volume = int("".join(ch for ch in highest if ch.isdigit())) if highest else self.demo_volume
        records = self.generate(volume)
        return Fetched(records=records, reported_total=len(records), pages=1)

    def validate(self, record: Any) -> Row | Any:
        outcome = super().validate(record)
        if isinstance(outcome, dict):
            return {name: outcome.get(name) for name in self.fields}
        return outcome

    def key(self, row: Row) -> str:
        return str(row[self.target_key_field])

    def target_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.all()

    def model_to_row(self, obj: Any) -> Row:
        return demo.row_values(obj, list(self.fields))

    def row_to_model(self, key: str, row: Row, obj: Any | None) -> Any:
        values = demo.model_values(self.model, row)
        if obj is None:
            return self.model(**values)
        for name, value in values.items():
            setattr(obj, name, value)
        return obj

    def update_fields(self) -> list[str]:
        return [name for name in self.fields if name != self.target_key_field]


class FinanceInvoiceSync(ModelSync):
    """Supplier invoices from the accounts-payable system (demo: the seeded generator)."""

    model = FinanceInvoice
    target_key_field = "invoice_number"
    fields = (
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
    )
    demo_volume = demo.DEMO_INVOICES

    def generate(self, count: int) -> list[Row]:
        return list(demo.invoice_rows(count))


class HeadcountSync(ModelSync):
    """Employees and their positions from the HR system (demo: the seeded generator)."""

    model = HeadcountRecord
    target_key_field = "employee_id"
    fields = (
        "employee_id",
        "department",
        "job_title",
        "grade",
        "location",
        "employment_type",
        "fte",
        "start_date",
        "active",
        "salary",
    )
    demo_volume = demo.DEMO_HEADCOUNT

    def generate(self, count: int) -> list[Row]:
        return list(demo.headcount_rows(count))


register_sync("reports.finance-invoices", FinanceInvoiceSync)
register_sync("reports.headcount", HeadcountSync)
