"""The demo datasets' data: a seeded generator standing in for the AP and HR systems, and `ensure_demo_datasets`.

Row `i` of each dataset depends only on `i` (its own seeded random generator), so any volume is a prefix of a
larger one: seeding 5,000 invoices and later 1,000,000 keeps the first 5,000 as they were, and the code syncs
(reports.jobs), which read the same generator, find nothing to change.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth.models import Group
from django.db import models

from core.services import run_in_transaction

from .models import FinanceInvoice, HeadcountRecord

BATCH_SIZE = 1000  # rows per transaction: Galera's write sets stay small
DEMO_INVOICES = 5000
DEMO_HEADCOUNT = 800
SEED = 20240601
EPOCH = date(2023, 1, 1)

SUPPLIERS = [
    ("S1001", "Acme Office Supplies"),
    ("S1002", "Northwind Traders"),
    ("S1003", "Contoso Facilities"),
    ("S1004", "Fabrikam Logistics"),
    ("S1005", "Globex Consulting"),
    ("S1006", "Initech Software"),
    ("S1007", "Umbrella Catering"),
    ("S1008", "Stark Engineering"),
    ("S1009", "Wayne Security Services"),
    ("S1010", "Tyrell Cloud Hosting"),
    ("S1011", "Wonka Events"),
    ("S1012", "Cyberdyne Hardware"),
    ("S1013", "Hooli Telecom"),
    ("S1014", "Vandelay Industries"),
    ("S1015", "Soylent Travel"),
    ("S1016", "Oceanic Freight"),
]
COST_CENTRES = ["CC-100", "CC-110", "CC-200", "CC-210", "CC-300", "CC-310", "CC-400", "CC-500", "CC-600", "CC-700"]
CURRENCIES = ["EUR"] * 6 + ["USD"] * 2 + ["GBP", "CHF"]
STATUSES = ["paid"] * 6 + ["open"] * 3 + ["disputed"]
DEPARTMENTS = {
    "Finance": ["Accountant", "Financial analyst", "Controller", "Payroll specialist"],
    "Human Resources": ["HR business partner", "Recruiter", "HR analyst"],
    "Engineering": ["Software engineer", "Site reliability engineer", "Engineering manager", "QA engineer"],
    "Sales": ["Account executive", "Sales manager", "Sales engineer"],
    "Operations": ["Operations analyst", "Facilities coordinator", "Procurement officer"],
    "Legal": ["Counsel", "Paralegal"],
}
GRADES = ["G1", "G2", "G3", "G4", "G5", "G6", "G7"]
BASE_SALARY = {"G1": 32000, "G2": 40000, "G3": 50000, "G4": 62000, "G5": 76000, "G6": 95000, "G7": 120000}
LOCATIONS = ["Berlin", "Amsterdam", "London", "Madrid", "Warsaw", "Lisbon"]
EMPLOYMENT_TYPES = ["permanent"] * 8 + ["fixed-term", "contractor"]


def invoice_number(index: int) -> str:
    return f"INV-{index:07d}"


def employee_id(index: int) -> str:
    return f"E{index:07d}"


def invoice_row(index: int, seed: int = SEED) -> dict[str, Any]:
    """Invoice number `index` (1-based) as a source record."""
    rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 - demo data, not cryptography
    supplier_id, supplier = rng.choice(SUPPLIERS)
    invoice_date = EPOCH + timedelta(days=rng.randint(0, 729))
    amount = Decimal(round(rng.lognormvariate(7, 1.1), 2)).quantize(Decimal("0.01"))
    return {
        "invoice_number": invoice_number(index),
        "supplier": supplier,
        "supplier_id": supplier_id,
        "cost_centre": rng.choice(COST_CENTRES),
        "currency": rng.choice(CURRENCIES),
        "amount": str(max(amount, Decimal("1.00"))),
        "invoice_date": invoice_date.isoformat(),
        "due_date": (invoice_date + timedelta(days=rng.choice((14, 30, 30, 45, 60)))).isoformat(),
        "status": rng.choice(STATUSES),
        "bank_account": f"DE{rng.randint(10, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} "
        f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
    }


def headcount_row(index: int, seed: int = SEED) -> dict[str, Any]:
    """Employee number `index` (1-based) as a source record."""
    rng = random.Random(seed * 7_000_003 + index)  # noqa: S311 - demo data, not cryptography
    department = rng.choice(list(DEPARTMENTS))
    grade = rng.choice(GRADES)
    kind = rng.choice(EMPLOYMENT_TYPES)
    salary = Decimal(BASE_SALARY[grade] * rng.uniform(0.9, 1.25)).quantize(Decimal("100"))
    return {
        "employee_id": employee_id(index),
        "department": department,
        "job_title": rng.choice(DEPARTMENTS[department]),
        "grade": grade,
        "location": rng.choice(LOCATIONS),
        "employment_type": kind,
        "fte": str(rng.choice((Decimal("1.00"),) * 6 + (Decimal("0.80"), Decimal("0.60"), Decimal("0.50")))),
        "start_date": (date(2010, 1, 1) + timedelta(days=rng.randint(0, 5400))).isoformat(),
        "active": rng.random() > 0.06,
        "salary": str(salary.quantize(Decimal("0.01"))),
    }


def invoice_rows(count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    return (invoice_row(i, seed) for i in range(1, count + 1))


def headcount_rows(count: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    return (headcount_row(i, seed) for i in range(1, count + 1))


def model_values(model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
    """A source record (JSON types) as the model's field values (dates and decimals parsed)."""
    values = {}
    for name, raw in row.items():
        field = model._meta.get_field(name)
        value = raw
        if raw is not None and isinstance(field, models.DateField) and not isinstance(raw, date):
            value = date.fromisoformat(raw)
        elif raw is not None and isinstance(field, models.DecimalField):
            value = Decimal(str(raw))
        values[name] = value
    return values


def row_values(obj: models.Model, names: list[str]) -> dict[str, Any]:
    """A model instance as a source record (the inverse of model_values, for the sync's field-level diff)."""
    row = {}
    for name in names:
        value = getattr(obj, name)
        row[name] = (
            value.isoformat() if isinstance(value, date) else str(value) if isinstance(value, Decimal) else value
        )
    return row


def seed(model: type[models.Model], key_field: str, rows: Iterator[dict[str, Any]], count: int, last_key: str) -> int:
    """Insert the generator's first `count` rows that are missing and delete rows beyond them; returns rows added.

    bulk_create in batches of BATCH_SIZE, each batch its own transaction; existing keys are skipped by the database
    (ignore_conflicts on the unique key), so seeding twice, or after a sync, changes nothing.
    """
    manager = model._default_manager
    before = manager.count()
    batch: list[models.Model] = []
    for row in rows:
        batch.append(model(**model_values(model, row)))
        if len(batch) == BATCH_SIZE:
            run_in_transaction(partial(manager.bulk_create, batch, ignore_conflicts=True))
            batch = []
    if batch:
        run_in_transaction(partial(manager.bulk_create, batch, ignore_conflicts=True))
    while True:
        extra = list(manager.filter(**{f"{key_field}__gt": last_key}).values_list("pk", flat=True)[:BATCH_SIZE])
        if not extra:
            break
        run_in_transaction(partial(_delete, model, extra))
    return manager.count() - before


def _delete(model: type[models.Model], ids: list[Any]) -> None:
    model._default_manager.filter(pk__in=ids).delete()


def seed_invoices(count: int, seed_value: int = SEED) -> int:
    return seed(FinanceInvoice, "invoice_number", invoice_rows(count, seed_value), count, invoice_number(count))


def seed_headcount(count: int, seed_value: int = SEED) -> int:
    return seed(HeadcountRecord, "employee_id", headcount_rows(count, seed_value), count, employee_id(count))


# -----------------------------------------------------------------------------------------------------------------
# The demo's catalog: sources, datasets, column clearance, two reports
# -----------------------------------------------------------------------------------------------------------------
DEMO_REASON = "Demo data"
CLEARANCE_GROUPS = {
    "finance-bank-details": "May see suppliers' bank accounts in the data catalog and reports",
    "hr-compensation": "May see salaries in the data catalog and reports",
}


def ensure_demo_datasets(
    actor: Any = None, invoices: int = DEMO_INVOICES, headcount: int = DEMO_HEADCOUNT
) -> list[str]:
    """Create or update the demo's data catalog and seed its data; idempotent. One line per thing done.

    - the code sources `finance-invoices` and `hr-headcount` (jobs `sync.finance-invoices`, `sync.hr-headcount`),
    - the Dataset rows for finance.invoices and hr.headcount with column descriptions; the bank account is
      cleared for the group finance-bank-details, the salary for hr-compensation (both created here),
    - `invoices` invoices and `headcount` employees (the seeded generator), then one sync run of each source so
      the catalog shows a successful sync,
    - two section reports: finance's "Invoices by supplier" and hr's "Headcount by department".
    """
    from . import services

    report: list[str] = []
    groups = {}
    for name in CLEARANCE_GROUPS:
        groups[name], created = Group.objects.get_or_create(name=name)
        if created:
            report.append(f"group {name}: created")
    added = seed_invoices(invoices)
    added_hr = seed_headcount(headcount)
    report.append(f"finance.invoices: {added} rows added ({invoices} wanted)")
    report.append(f"hr.headcount: {added_hr} rows added ({headcount} wanted)")
    report += services.ensure_demo_catalog(groups, actor=actor, reason=DEMO_REASON)
    return report
