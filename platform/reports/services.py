"""Every write to the catalog's metadata and to report definitions: validated, in a Galera-safe transaction, with
the acting user and a reason in the history. The admin, the demo loader, tests (and later the API and the report
builder) all call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group

from core.services import delete_with_history, run_in_transaction, save_with_history
from jobs.services import save_source
from jobs.sync_models import SourceKind, SyncSource
from tenants.models import Section
from tenants.services import bump_config_version

from .models import Dataset, DatasetColumn, ReportDefinition, SavedView


def save_dataset(
    dataset: Dataset, *, actor: Any, reason: str, allowed_groups: Iterable[Group] | None = None
) -> Dataset:
    """Create or change a dataset's catalog entry; with `allowed_groups`, set exactly who may see it."""

    def work() -> Dataset:
        save_with_history(dataset, actor=actor, reason=reason)
        if allowed_groups is not None:
            dataset.allowed_groups.set(list(allowed_groups))
        if dataset.owner_section is not None:
            bump_config_version(dataset.owner_section)
        return dataset

    return run_in_transaction(work)


def delete_dataset(dataset: Dataset, *, actor: Any, reason: str) -> None:
    """Delete a catalog entry (refused by the database while reports use it: PROTECT)."""
    run_in_transaction(lambda: delete_with_history(dataset, actor=actor, reason=reason))


def save_column(
    column: DatasetColumn, *, actor: Any, reason: str, clearance_groups: Iterable[Group] | None = None
) -> DatasetColumn:
    """Create or change a column's description; with `clearance_groups`, set exactly who may receive it."""

    def work() -> DatasetColumn:
        save_with_history(column, actor=actor, reason=reason)
        if clearance_groups is not None:
            column.clearance_groups.set(list(clearance_groups))
        return column

    return run_in_transaction(work)


def delete_column(column: DatasetColumn, *, actor: Any, reason: str) -> None:
    run_in_transaction(lambda: delete_with_history(column, actor=actor, reason=reason))


def save_report(
    report: ReportDefinition, *, actor: Any, reason: str, allowed_groups: Iterable[Group] | None = None
) -> ReportDefinition:
    """Create or change a report definition (validated against its dataset by ReportDefinition.clean)."""

    def work() -> ReportDefinition:
        save_with_history(report, actor=actor, reason=reason)
        if allowed_groups is not None:
            report.allowed_groups.set(list(allowed_groups))
        if report.section is not None:
            bump_config_version(report.section)
        return report

    return run_in_transaction(work)


def delete_report(report: ReportDefinition, *, actor: Any, reason: str) -> None:
    def work() -> None:
        section = report.section
        delete_with_history(report, actor=actor, reason=reason)
        if section is not None:
            bump_config_version(section)

    run_in_transaction(work)


# -----------------------------------------------------------------------------------------------------------------
# The demo catalog (called by reports.demo.ensure_demo_datasets)
# -----------------------------------------------------------------------------------------------------------------
DEMO_SOURCES: dict[str, dict[str, Any]] = {
    "finance-invoices": {
        "name": "AP system: supplier invoices",
        "description": "Supplier invoices from the accounts-payable system (demo: a seeded generator).",
        "code_name": "reports.finance-invoices",
        "key_field": "invoice_number",
        "section": "finance",
        "schedule": "*/30 * * * *",
        "freshness_target_minutes": 120,
    },
    "hr-headcount": {
        "name": "HR system: headcount",
        "description": "Employees and their positions from the HR system (demo: a seeded generator).",
        "code_name": "reports.headcount",
        "key_field": "employee_id",
        "section": "hr",
        "schedule": "15 * * * *",
        "freshness_target_minutes": 24 * 60,
    },
}

DEMO_DATASETS: dict[str, dict[str, Any]] = {
    "finance.invoices": {
        "title": "Supplier invoices",
        "description": "Every supplier invoice booked in the accounts-payable system since 2023: supplier, cost "
        "centre, amount and currency, dates and payment status. One row per invoice.",
        "section": "finance",
        "steward_name": "Fiona Fischer",
        "steward_email": "fiona@example.com",
        "source_system": "Accounts-payable platform (AP)",
        "source": "finance-invoices",
        "sensitivity": "confidential",
        "groups": ["finance-staff", "finance-editors"],
        "columns": {
            "invoice_number": ("The invoice's number in the AP system.", []),
            "supplier": ("The supplier's registered name.", []),
            "supplier_id": ("The supplier's id in the AP system.", []),
            "cost_centre": ("The cost centre the invoice is booked on.", []),
            "currency": ("ISO 4217 currency of the amount.", []),
            "amount": ("Gross amount in the invoice's currency.", []),
            "invoice_date": ("The date on the invoice.", []),
            "due_date": ("The date payment is due.", []),
            "status": ("open, paid or disputed.", []),
            "bank_account": ("The IBAN payments go to. Restricted: payment-fraud risk.", ["finance-bank-details"]),
        },
        "reports": [
            {
                "slug": "invoices-by-supplier",
                "title": "Open invoices by supplier",
                "description": "Open invoices, largest first, with the open amount per supplier.",
                "columns": ["invoice_number", "supplier", "cost_centre", "amount", "currency", "due_date", "status"],
                "filters": [{"column": "status", "op": "eq", "value": "open"}],
                "default_sort": ["-amount"],
                "chart_type": "bar",
                "chart_x": "supplier",
                "chart_y": "amount",
                "chart_aggregation": "sum",
            }
        ],
    },
    "hr.headcount": {
        "title": "Headcount",
        "description": "Everyone employed or contracted, with department, grade, location and FTE. One row per "
        "person; leavers stay with active = false.",
        "section": "hr",
        "steward_name": "Hana Hoffmann",
        "steward_email": "hana@example.com",
        "source_system": "HR information system (HRIS)",
        "source": "hr-headcount",
        "sensitivity": "restricted",
        "groups": ["hr-staff", "hr-editors"],
        "columns": {
            "employee_id": ("The person's employee number.", []),
            "department": ("The department the position belongs to.", []),
            "job_title": ("The position's title.", []),
            "grade": ("Pay grade, G1 (entry) to G7.", []),
            "location": ("The office the person works from.", []),
            "employment_type": ("permanent, fixed-term or contractor.", []),
            "fte": ("Full-time equivalent: 1.00 is full time.", []),
            "start_date": ("The first day of employment.", []),
            "active": ("False once the person has left.", []),
            "salary": ("Annual base salary in EUR. Restricted to compensation specialists.", ["hr-compensation"]),
        },
        "reports": [
            {
                "slug": "headcount-by-department",
                "title": "Headcount by department",
                "description": "Active people per department and grade.",
                "columns": ["employee_id", "department", "job_title", "grade", "location", "fte", "start_date"],
                "filters": [{"column": "active", "op": "eq", "value": True}],
                "default_sort": ["department", "employee_id"],
                "chart_type": "doughnut",
                "chart_x": "department",
                "chart_aggregation": "count",
            }
        ],
    },
}


def ensure_demo_catalog(groups: dict[str, Group], *, actor: Any, reason: str) -> list[str]:
    """The demo's sources, datasets, columns and reports (idempotent: unchanged rows are not saved again)."""
    report: list[str] = []
    sources = {slug: _ensure_source(slug, spec, actor, reason, report) for slug, spec in DEMO_SOURCES.items()}
    for key, spec in DEMO_DATASETS.items():
        section = Section.objects.filter(slug=spec["section"]).first()
        dataset = Dataset.objects.filter(key=key).first() or Dataset(key=key)
        wanted = {
            "title": spec["title"],
            "description": spec["description"],
            "owner_section": section,
            "steward_name": spec["steward_name"],
            "steward_email": spec["steward_email"],
            "source_system": spec["source_system"],
            "sync_source": sources[spec["source"]],
            "sensitivity": spec["sensitivity"],
        }
        allowed = list(Group.objects.filter(name__in=spec["groups"]))
        if dataset.pk is None or any(getattr(dataset, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(dataset, name, value)
            save_dataset(dataset, actor=actor, reason=reason, allowed_groups=allowed)
            report.append(f"dataset {key}: saved")
        for name, (description, clearance) in spec["columns"].items():
            column = DatasetColumn.objects.filter(dataset=dataset, name=name).first()
            cleared = [groups[g] if g in groups else Group.objects.get_or_create(name=g)[0] for g in clearance]
            if column is None or column.description != description:
                column = column or DatasetColumn(dataset=dataset, name=name)
                column.description = description
                save_column(column, actor=actor, reason=reason, clearance_groups=cleared)
        if section is None:
            continue
        for definition in spec["reports"]:
            existing = ReportDefinition.objects.filter(section=section, slug=definition["slug"]).first()
            if existing is None:
                save_report(
                    ReportDefinition(section=section, dataset=dataset, **definition), actor=actor, reason=reason
                )
                report.append(f"report {section.slug}/{definition['slug']}: created")
    report += _sync_demo_sources(sources)
    return report


def _ensure_source(slug: str, spec: dict[str, Any], actor: Any, reason: str, report: list[str]) -> SyncSource:
    wanted = {
        **{k: v for k, v in spec.items() if k != "section"},
        "kind": SourceKind.CODE,
        "section": Section.objects.filter(slug=spec["section"]).first(),
    }
    source = SyncSource.objects.filter(slug=slug).first() or SyncSource(slug=slug)
    if source.pk is None or any(getattr(source, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(source, name, value)
        save_source(source, actor=actor, reason=reason)
        report.append(f"source {slug}: saved")
    return source


def _sync_demo_sources(sources: dict[str, SyncSource]) -> list[str]:
    """Run each demo source's sync job once, so the catalog shows a successful sync (skipped on web instances)."""
    from jobs.runner import RoleError, run_job

    lines = []
    for source in sources.values():
        try:
            outcome = run_job(source.job_name)
        except RoleError:
            lines.append(f"{source.job_name}: not run (ATRIUM_ROLE=web)")
            continue
        lines.append(f"{source.job_name}: {getattr(outcome, 'outcome', 'held')}")
    return lines


# -----------------------------------------------------------------------------------------------------------------
# Saved views (one user's named table state of one report; not configuration: no history, no section version)
# -----------------------------------------------------------------------------------------------------------------
def save_view(view: SavedView) -> SavedView:
    """Create or replace the user's view of that name on that report (validated, Galera-safe)."""

    def work() -> SavedView:
        existing = SavedView.objects.filter(user=view.user, report=view.report, name=view.name).first()
        if existing is not None and existing.pk != view.pk:
            view.pk = existing.pk
            view.created = existing.created
            view._state.adding = False
        view.full_clean(validate_unique=False)
        view.save()
        return view

    return run_in_transaction(work)


def delete_view(view: SavedView) -> None:
    run_in_transaction(view.delete)
