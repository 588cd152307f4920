"""The data catalog's metadata (Dataset, DatasetColumn), report definitions, and the demo datasets' own tables.

- `Dataset` and `DatasetColumn` describe a dataset registered in code (reports.datasets): who owns it, who may
  see it, where it comes from, and which columns need a clearance. Configuration tables with history, written
  only by reports.services.
- `ReportDefinition`: a saved question over one dataset (columns, filters, sort, chart). A report belongs to
  either a section (shared with that section's visitors, optionally narrowed to some groups) or, with no
  section, to one user (a personal report, seen by its owner only). Exactly one of the two is set (a database
  constraint says so). It does not inherit SectionScopedModel because that base requires a section; visibility
  is decided by reports.access.visible_reports instead of the current-section manager.
- `FinanceInvoice` and `HeadcountRecord`: the local copies of the demo sources, filled by their code syncs
  (reports.jobs) or by `manage.py seed_datasets`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel

from .datasets import UnknownDataset, get_dataset, registered_datasets

MAX_PAGE_SIZE = 100


class Sensitivity(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    RESTRICTED = "restricted", "Restricted"


class Dataset(TimeStampedModel):
    """The catalog entry of a dataset registered in code: what it is, who owns it, who may see it."""

    key = models.CharField(
        max_length=100, unique=True, help_text="The key the dataset is registered under in code, e.g. finance.invoices."
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_section = models.ForeignKey(
        "tenants.Section", null=True, blank=True, on_delete=models.PROTECT, related_name="datasets"
    )
    steward_name = models.CharField(max_length=120, blank=True)
    steward_email = models.EmailField(blank=True, help_text="Whom to ask about the data's meaning and quality.")
    source_system = models.CharField(max_length=120, blank=True, help_text="The system the data comes from.")
    sync_source = models.ForeignKey(
        "jobs.SyncSource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="datasets",
        help_text="The data source whose sync job fills this dataset.",
    )
    freshness_target_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="How old the last successful sync may be before the data is stale; empty: the source's target.",
    )
    sensitivity = models.CharField(max_length=20, choices=Sensitivity.choices, default=Sensitivity.INTERNAL)
    allowed_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="Groups that may see this dataset and reports on it; none: every signed-in user.",
    )

    history = HistoricalRecords(m2m_fields=[allowed_groups])

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("catalog:dataset", kwargs={"key": self.key})

    def clean(self) -> None:
        if self.key and self.key not in registered_datasets():
            known = ", ".join(sorted(registered_datasets())) or "none"
            raise ValidationError({"key": f"No dataset is registered in code as “{self.key}”. Registered: {known}."})


class DatasetColumn(TimeStampedModel):
    """One column's description and clearance: with clearance groups, only their members ever receive it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="column_rows")
    name = models.CharField(max_length=100, help_text="The column's name in the dataset's code registration.")
    description = models.TextField(blank=True)
    clearance_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="Only these groups see the column; none: everyone who sees the dataset (except for columns "
        "registered as sensitive, which nobody sees until groups are named here).",
    )

    history = HistoricalRecords(m2m_fields=[clearance_groups])

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="unique_dataset_column")]

    def __str__(self) -> str:
        return f"{self.dataset.key}.{self.name}"

    def clean(self) -> None:
        if not self.dataset_id or not self.name:
            return
        try:
            spec = get_dataset(self.dataset.key)
        except UnknownDataset:
            return  # the dataset's own clean says so
        if spec.column(self.name) is None:
            raise ValidationError(
                {"name": f"“{self.name}” is not a column of {spec.key}: {', '.join(spec.column_names)}."}
            )


class ChartType(models.TextChoices):
    BAR = "bar", "Bar"
    LINE = "line", "Line"
    PIE = "pie", "Pie"
    DOUGHNUT = "doughnut", "Doughnut"


class Aggregation(models.TextChoices):
    COUNT = "count", "Count"
    SUM = "sum", "Sum"
    AVG = "avg", "Average"
    MIN = "min", "Minimum"
    MAX = "max", "Maximum"


class DateBucket(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class ReportDefinition(TimeStampedModel):
    """A saved report over one dataset; shared in a section, or personal (no section, an owner)."""

    section = models.ForeignKey(
        "tenants.Section", null=True, blank=True, on_delete=models.CASCADE, related_name="reports", db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reports",
        help_text="For a personal report (no section): the only user who sees it.",
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="reports")
    columns = models.JSONField(default=list, help_text='Column names in display order, e.g. ["supplier", "amount"].')
    filters = models.JSONField(
        default=list,
        blank=True,
        help_text='Fixed filters: [{"column": "status", "op": "eq", "value": "open"}]. Operators: eq ne lt lte gt '
        "gte contains startswith in between isnull.",
    )
    default_sort = models.JSONField(
        default=list, blank=True, help_text='Column names, "-" for descending, e.g. ["-amount", "supplier"].'
    )
    page_size = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(1), MaxValueValidator(MAX_PAGE_SIZE)]
    )
    chart_type = models.CharField(max_length=10, choices=ChartType.choices, blank=True, help_text="Empty: no chart.")
    chart_x = models.CharField("chart x", max_length=100, blank=True, help_text="The column along the x axis.")
    chart_y = models.CharField("chart y", max_length=100, blank=True, help_text="The measured column (not for count).")
    chart_aggregation = models.CharField(max_length=10, choices=Aggregation.choices, default=Aggregation.COUNT)
    chart_group_by = models.CharField(max_length=100, blank=True, help_text="Optional: one series per value.")
    chart_bucket = models.CharField(
        max_length=10, choices=DateBucket.choices, blank=True, help_text="For a date on the x axis: group by this."
    )
    allowed_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        help_text="Groups that may run a section report; none: every visitor of the section.",
    )

    history = HistoricalRecords(m2m_fields=[allowed_groups])

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(section__isnull=False, owner__isnull=True))
                | (models.Q(section__isnull=True, owner__isnull=False)),
                name="report_section_xor_owner",
            ),
            models.UniqueConstraint(
                fields=["section", "slug"], condition=models.Q(section__isnull=False), name="unique_report_slug_section"
            ),
            models.UniqueConstraint(
                fields=["owner", "slug"], condition=models.Q(owner__isnull=False), name="unique_report_slug_owner"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("reports:report", kwargs={"pk": self.pk})

    @property
    def is_personal(self) -> bool:
        return self.section_id is None

    @property
    def chart_spec(self) -> dict[str, Any] | None:
        if not self.chart_type:
            return None
        return {
            "type": self.chart_type,
            "x": self.chart_x,
            "y": self.chart_y,
            "aggregation": self.chart_aggregation,
            "group_by": self.chart_group_by,
            "bucket": self.chart_bucket,
        }

    def clean(self) -> None:
        from .query import QueryError, validate_definition

        if (self.section_id is None) == (self.owner_id is None):
            raise ValidationError("A report belongs either to a section or, as a personal report, to an owner.")
        if not self.dataset_id:
            return
        try:
            spec = get_dataset(self.dataset.key)
        except UnknownDataset as exc:
            raise ValidationError({"dataset": str(exc)}) from None
        try:
            validate_definition(spec, self)
        except QueryError as exc:
            raise ValidationError({exc.field_name(): exc.message}) from None


class SavedView(TimeStampedModel):
    """One user's named state of one report's table: searches, column order and sort (theirs only, never shared).

    Not a configuration table (no history, no export bundle): it is a personal preference, like a bookmark.
    Written only by reports.services (save_view, delete_view).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_views")
    report = models.ForeignKey(ReportDefinition, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    search = models.CharField(max_length=200, blank=True, help_text="The table's global search.")
    filters = models.JSONField(default=dict, blank=True, help_text='Per-column searches, e.g. {"supplier": "acme"}.')
    columns = models.JSONField(
        default=list, blank=True, help_text="Column names in display order; empty: the report's."
    )
    sort = models.JSONField(default=list, blank=True, help_text='Column names, "-" for descending.')

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "report", "name"], name="unique_saved_view_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reports:report", kwargs={"pk": self.report_id}) + f"?view={self.pk}"


# -----------------------------------------------------------------------------------------------------------------
# The demo datasets' tables (local copies of the demo sources)
# -----------------------------------------------------------------------------------------------------------------
class FinanceInvoice(models.Model):
    """A supplier invoice, as synced from the accounts-payable system (demo: a seeded generator)."""

    invoice_number = models.CharField(max_length=32, unique=True)
    supplier = models.CharField(max_length=120)
    supplier_id = models.CharField(max_length=20)
    cost_centre = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    invoice_date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=20)
    bank_account = models.CharField(max_length=40)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invoice_number"]
        indexes = [
            models.Index(fields=["invoice_date"]),
            models.Index(fields=["due_date"]),
            models.Index(fields=["supplier"]),
            models.Index(fields=["cost_centre", "invoice_date"]),
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["amount"]),
            # The dataset's base filter (deleted_at IS NULL) leads: the row count is an index-only scan, and the
            # demo report's chart (sum of amount by supplier) reads this index alone, in group order.
            models.Index(fields=["deleted_at", "supplier", "amount"], name="reports_inv_live_supplier_amt"),
        ]

    def __str__(self) -> str:
        return self.invoice_number


class HeadcountRecord(models.Model):
    """One employee's position, as synced from the HR system (demo: a seeded generator)."""

    employee_id = models.CharField(max_length=20, unique=True)
    department = models.CharField(max_length=80)
    job_title = models.CharField(max_length=120)
    grade = models.CharField(max_length=10)
    location = models.CharField(max_length=80)
    employment_type = models.CharField(max_length=20)
    fte = models.DecimalField(max_digits=4, decimal_places=2)
    start_date = models.DateField()
    active = models.BooleanField(default=True)
    salary = models.DecimalField(max_digits=12, decimal_places=2)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["employee_id"]
        indexes = [
            models.Index(fields=["department", "grade"]),
            models.Index(fields=["location"]),
            models.Index(fields=["start_date"]),
        ]

    def __str__(self) -> str:
        return self.employee_id
