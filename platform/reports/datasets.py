"""The dataset registry: which tables the catalog and reports may read, and which of their columns, declared in code.

A dataset is a Django model (or a database view mapped by an unmanaged model) plus a whitelist of columns, each
with a type. Only these columns can ever be selected, filtered, searched, sorted or charted: the query engine
(reports.query) takes column names from this whitelist and never from a request. The descriptive metadata
(title, owner, steward, sync source, who may see it, column descriptions and clearance) lives in the admin
(reports.models.Dataset / DatasetColumn), keyed by the dataset's `key`.

    register_dataset(DatasetSpec(
        key="finance.invoices",
        model="reports.FinanceInvoice",
        columns=(DatasetColumnSpec("invoice_number", "Invoice", ColumnType.TEXT), ...),
        default_sort=("-invoice_date",),
    ))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db import models


class ColumnType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"


NUMERIC_TYPES = frozenset({ColumnType.INTEGER, ColumnType.DECIMAL})


@dataclass(frozen=True)
class DatasetColumnSpec:
    """One whitelisted column: `name` is what requests and report definitions use, `field` the ORM path."""

    name: str
    title: str
    type: ColumnType
    field: str = ""
    # A sensitive column is hidden from everyone until its metadata row names the groups cleared to see it
    # (fail closed: a forgotten clearance hides the column rather than showing it to all).
    sensitive: bool = False

    @property
    def path(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    title: str
    model: str  # "app_label.ModelName", resolved lazily (the registry is filled before models are ready)
    columns: tuple[DatasetColumnSpec, ...]
    default_sort: tuple[str, ...] = ()  # column names, "-" for descending
    # Rows the dataset shows; e.g. {"deleted_at__isnull": True} to hide rows the source no longer has.
    base_filter: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"Dataset {self.key}: two columns share a name.")
        for sort in self.default_sort:
            if sort.removeprefix("-") not in names:
                raise ValueError(f"Dataset {self.key}: default sort {sort!r} is not one of its columns.")

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    def queryset(self) -> models.QuerySet[Any]:
        return self.model_class._default_manager.filter(**self.base_filter)

    def column(self, name: str) -> DatasetColumnSpec | None:
        return next((column for column in self.columns if column.name == name), None)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


_datasets: dict[str, DatasetSpec] = {}


class UnknownDataset(LookupError):
    """No dataset is registered under that key."""


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add a dataset to the registry (call it at import time of your app's datasets module)."""
    existing = _datasets.get(spec.key)
    if existing is not None and existing != spec:
        raise ValueError(f"Two datasets are both registered as {spec.key}.")
    _datasets[spec.key] = spec
    return spec


def unregister_dataset(key: str) -> None:
    """Forget a dataset (tests register throw-away ones)."""
    _datasets.pop(key, None)


def get_dataset(key: str) -> DatasetSpec:
    try:
        return _datasets[key]
    except KeyError:
        raise UnknownDataset(f"No dataset is registered as “{key}”.") from None


def registered_datasets() -> dict[str, DatasetSpec]:
    return dict(_datasets)


# -----------------------------------------------------------------------------------------------------------------
# The platform's own datasets (the demo's finance invoices and HR headcount)
# -----------------------------------------------------------------------------------------------------------------
FINANCE_INVOICES = register_dataset(
    DatasetSpec(
        key="finance.invoices",
        title="Supplier invoices",
        model="reports.FinanceInvoice",
        columns=(
            DatasetColumnSpec("invoice_number", "Invoice", ColumnType.TEXT),
            DatasetColumnSpec("supplier", "Supplier", ColumnType.TEXT),
            DatasetColumnSpec("supplier_id", "Supplier id", ColumnType.TEXT),
            DatasetColumnSpec("cost_centre", "Cost centre", ColumnType.TEXT),
            DatasetColumnSpec("currency", "Currency", ColumnType.TEXT),
            DatasetColumnSpec("amount", "Amount", ColumnType.DECIMAL),
            DatasetColumnSpec("invoice_date", "Invoice date", ColumnType.DATE),
            DatasetColumnSpec("due_date", "Due date", ColumnType.DATE),
            DatasetColumnSpec("status", "Status", ColumnType.TEXT),
            DatasetColumnSpec("bank_account", "Supplier bank account", ColumnType.TEXT, sensitive=True),
        ),
        default_sort=("-invoice_date", "invoice_number"),
        base_filter={"deleted_at__isnull": True},
    )
)

HR_HEADCOUNT = register_dataset(
    DatasetSpec(
        key="hr.headcount",
        title="Headcount",
        model="reports.HeadcountRecord",
        columns=(
            DatasetColumnSpec("employee_id", "Employee", ColumnType.TEXT),
            DatasetColumnSpec("department", "Department", ColumnType.TEXT),
            DatasetColumnSpec("job_title", "Job title", ColumnType.TEXT),
            DatasetColumnSpec("grade", "Grade", ColumnType.TEXT),
            DatasetColumnSpec("location", "Location", ColumnType.TEXT),
            DatasetColumnSpec("employment_type", "Employment type", ColumnType.TEXT),
            DatasetColumnSpec("fte", "FTE", ColumnType.DECIMAL),
            DatasetColumnSpec("start_date", "Start date", ColumnType.DATE),
            DatasetColumnSpec("active", "Active", ColumnType.BOOLEAN),
            DatasetColumnSpec("salary", "Annual salary", ColumnType.DECIMAL, sensitive=True),
        ),
        default_sort=("department", "employee_id"),
        base_filter={"deleted_at__isnull": True},
    )
)
