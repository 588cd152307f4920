"""The report builder's form: one Django form for the whole definition, validated with the query engine.

Columns are checkboxes submitted in display order (the builder's JS moves them; a browser posts checked boxes in
document order). Filters travel as JSON in one field (the JS edits rows and writes the JSON; without JS it is a
text area): `[{"column": "status", "op": "eq", "value": "open"}, …]`. Every column, operator, value, sort and
chart setting is checked against the columns *this user* may see, so nobody can filter, sort or chart on a
column they are not cleared for. `problems` keeps the engine's precise field (e.g. `filters[1].value`) for the
preview's 400 answer, so the page can show the message next to the row that caused it.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.text import slugify

from tenants.models import Section
from tenants.permissions import editable_sections

from .access import visible_columns, visible_datasets
from .datasets import DatasetSpec, UnknownDataset, get_dataset
from .models import MAX_PAGE_SIZE, Aggregation, ChartType, Dataset, DateBucket, ReportDefinition
from .query import DatasetQuery, QueryError, chart_request, parse_sort

PERSONAL = "personal"
BLANK = [("", "—")]


def editable_report_sections(user: Any) -> list[Section]:
    """The sections `user` may save a shared report to (not archived), by name."""
    return [s for s in editable_sections(user).order_by("name") if not s.is_archived]


def may_edit_report(user: Any, report: ReportDefinition) -> bool:
    """The owner edits a personal report; an editor of its section a shared one."""
    if report.section_id is None:
        return bool(report.owner_id == getattr(user, "pk", None))
    return any(s.pk == report.section_id for s in editable_report_sections(user))


def may_build(user: Any) -> bool:
    """Every signed-in user may build personal reports (on the datasets they may see)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


class ReportBuilderForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    dataset = forms.ChoiceField(help_text="Only the datasets you may see.")
    columns = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="Tick the columns to show; their order is the table's."
    )
    filters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
        help_text='Fixed filters as JSON: [{"column": "status", "op": "eq", "value": "open"}].',
    )
    sort_column = forms.ChoiceField(required=False, label="Default sort")
    sort_descending = forms.BooleanField(required=False, label="Descending")
    page_size = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, initial=25)
    chart_type = forms.ChoiceField(required=False, choices=BLANK + list(ChartType.choices), label="Chart")
    chart_x = forms.ChoiceField(required=False, label="X axis")
    chart_aggregation = forms.ChoiceField(choices=Aggregation.choices, initial="count", label="Aggregation")
    chart_y = forms.ChoiceField(required=False, label="Measure (y)")
    chart_group_by = forms.ChoiceField(required=False, label="Group by")
    chart_bucket = forms.ChoiceField(required=False, choices=BLANK + list(DateBucket.choices), label="Date bucket")
    target = forms.ChoiceField(label="Save to")
    reason = forms.CharField(max_length=255, label="Change reason", help_text="Recorded in the report's history.")

    def __init__(self, *args: Any, user: Any, report: ReportDefinition | None = None, **kwargs: Any) -> None:
        self.user = user
        self.report = report
        if report is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(report)
        super().__init__(*args, **kwargs)
        self.datasets = {d.key: d for d in visible_datasets(user) if _registered(d.key)}
        self.fields["dataset"].choices = [(key, d.title) for key, d in self.datasets.items()]  # type: ignore[attr-defined]
        self.sections = editable_report_sections(user)
        self.fields["target"].choices = [(PERSONAL, "My personal reports")] + [  # type: ignore[attr-defined]
            (str(s.pk), f"Section: {s.name}") for s in self.sections
        ]
        self.problems: list[dict[str, str]] = []
        key = self.data.get("dataset") if self.is_bound else self.initial.get("dataset")
        if key not in self.datasets:
            key = next(iter(self.datasets), None)
            self.initial.setdefault("dataset", key)
        self.chosen: Dataset | None = self.datasets.get(key) if key else None
        self.spec: DatasetSpec | None = get_dataset(key) if self.chosen is not None and key else None
        self.visible = visible_columns(user, self.chosen, self.spec) if self.chosen and self.spec else []
        self.engine = DatasetQuery(self.spec, self.visible) if self.spec else None
        titled = [(name, self.spec.column(name).title) for name in self.visible] if self.spec else []  # type: ignore[union-attr]
        self.fields["columns"].choices = titled  # type: ignore[attr-defined]
        for name in ("sort_column", "chart_x", "chart_y", "chart_group_by"):
            self.fields[name].choices = BLANK + titled  # type: ignore[attr-defined]
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            css = "form-check-input" if isinstance(widget, forms.CheckboxInput) else "form-control"
            css = "form-select" if isinstance(widget, forms.Select) else css
            widget.attrs.setdefault("class", "")
            widget.attrs["class"] = f"{css} {widget.attrs['class']}".strip()
            widget.attrs["data-builder-field"] = name

    # Cleaning -------------------------------------------------------------------------------------------------------
    def _problem(self, field: str, exc: QueryError, where: str = "") -> None:
        self.problems.append({"name": exc.field or where or field, "reason": exc.message})
        self.add_error(field, exc.message if not exc.field or exc.field == field else f"{exc.field}: {exc.message}")

    def clean_filters(self) -> list[dict[str, Any]]:
        raw = (self.cleaned_data.get("filters") or "").strip()
        if not raw:
            return []
        try:
            value = json.loads(raw)
        except ValueError:
            self.problems.append({"name": "filters", "reason": "not valid JSON"})
            raise forms.ValidationError('Write the filters as JSON: [{"column": …, "op": …, "value": …}].') from None
        if not isinstance(value, list):
            self.problems.append({"name": "filters", "reason": "must be a list"})
            raise forms.ValidationError("The filters must be a list of {column, op, value} objects.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        engine = self.engine
        if engine is None:
            return data
        if "filters" in data:
            try:
                parsed = engine.parse_filters(data["filters"])
                data["filters"] = [
                    {"column": f.column, "op": f.op, "value": _stored(f.value, raw.get("value"))}
                    for f, raw in zip(parsed, data["filters"], strict=True)
                ]
                data["parsed_filters"] = parsed
            except QueryError as exc:
                self._problem("filters", exc)
        sort = data.get("sort_column")
        data["default_sort"] = [("-" if data.get("sort_descending") else "") + sort] if sort else []
        try:
            parse_sort(engine, data["default_sort"])
        except QueryError as exc:  # pragma: no cover - the choice field already refuses unknown columns
            self._problem("sort_column", exc)
        if data.get("chart_type"):
            if not data.get("chart_x"):
                self.problems.append({"name": "chart_x", "reason": "choose the column along the x axis"})
                self.add_error("chart_x", "Choose the column along the x axis.")
            else:
                try:
                    engine.check_chart(chart_request(ChartSettings(data)))
                except QueryError as exc:
                    field = exc.field.replace("chart.", "chart_") if exc.field else "chart_type"
                    self._problem(field if field in self.fields else "chart_type", exc, field)
        return data

    # Results ----------------------------------------------------------------------------------------------------------
    def target_section(self) -> Section | None:
        target = self.cleaned_data["target"]
        return None if target == PERSONAL else next(s for s in self.sections if str(s.pk) == target)

    def apply(self, report: ReportDefinition) -> ReportDefinition:
        """Copy the cleaned definition onto `report` (not saved: reports.services.save_report does that)."""
        data = self.cleaned_data
        section = self.target_section()
        report.section = section
        report.owner = None if section is not None else self.user  # only its owner ever edits a personal report
        report.title = data["title"]
        report.description = data.get("description", "")
        report.dataset = self.datasets[data["dataset"]]
        report.columns = list(data["columns"])
        report.filters = data["filters"]
        report.default_sort = data["default_sort"]
        report.page_size = data["page_size"]
        report.chart_type = data.get("chart_type") or ""
        chart = bool(report.chart_type)
        report.chart_x = data.get("chart_x", "") if chart else ""
        report.chart_y = data.get("chart_y", "") if chart else ""
        report.chart_aggregation = data.get("chart_aggregation") or "count" if chart else "count"
        report.chart_group_by = data.get("chart_group_by", "") if chart else ""
        report.chart_bucket = data.get("chart_bucket", "") if chart else ""
        if not report.slug or report.pk is None:
            report.slug = unique_slug(report)
        return report


class ChartSettings:
    """The chart fields of cleaned form data, shaped like a report for query.chart_request."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.chart_x = data.get("chart_x") or ""
        self.chart_y = data.get("chart_y") or ""
        self.chart_aggregation = data.get("chart_aggregation") or "count"
        self.chart_group_by = data.get("chart_group_by") or ""
        self.chart_bucket = data.get("chart_bucket") or ""


def _registered(key: str) -> bool:
    try:
        get_dataset(key)
    except UnknownDataset:
        return False
    return True


def _stored(parsed: Any, raw: Any) -> Any:
    """Keep what the user wrote for the stored definition (JSON-safe), once the engine has accepted it."""
    if isinstance(parsed, bool):
        return parsed
    if isinstance(raw, list | str | int | float):
        return raw
    return str(raw)


def unique_slug(report: ReportDefinition) -> str:
    base = slugify(report.title)[:70] or "report"
    taken = ReportDefinition.objects.exclude(pk=report.pk)
    taken = taken.filter(section=report.section) if report.section_id else taken.filter(owner=report.owner)
    slugs = set(taken.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in slugs:
        slug, n = f"{base}-{n}", n + 1
    return slug


def initial_for(report: ReportDefinition) -> dict[str, Any]:
    sort = report.default_sort[0] if report.default_sort else ""
    return {
        "title": report.title,
        "description": report.description,
        "dataset": report.dataset.key,
        "columns": list(report.columns),
        "filters": json.dumps(report.filters) if report.filters else "",
        "sort_column": sort.removeprefix("-"),
        "sort_descending": sort.startswith("-"),
        "page_size": report.page_size,
        "chart_type": report.chart_type,
        "chart_x": report.chart_x,
        "chart_y": report.chart_y,
        "chart_aggregation": report.chart_aggregation,
        "chart_group_by": report.chart_group_by,
        "chart_bucket": report.chart_bucket,
        "target": str(report.section_id) if report.section_id else PERSONAL,
    }


class SavedViewForm(forms.Form):
    """ "Save this view": a name plus the table's state (the report page's JS fills the hidden fields)."""

    name = forms.CharField(max_length=80)
    search = forms.CharField(max_length=200, required=False)
    filters = forms.CharField(required=False, help_text='Per-column searches as JSON: {"supplier": "acme"}.')
    columns = forms.CharField(required=False, help_text="Column names in display order, comma-separated.")
    sort = forms.CharField(required=False, help_text='Column names, "-" for descending, comma-separated.')

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report_columns = columns

    def _names(self, raw: str, field: str, signed: bool = False) -> list[str]:
        names = [n.strip() for n in raw.split(",") if n.strip()]
        for name in names:
            if (name.removeprefix("-") if signed else name) not in self.report_columns:
                raise forms.ValidationError(f"“{name[:40]}” is not a column of this report.")
        if len({n.removeprefix("-") for n in names}) != len(names):
            raise forms.ValidationError("Name each column once.")
        return names

    def clean_columns(self) -> list[str]:
        return self._names(self.cleaned_data.get("columns") or "", "columns")

    def clean_sort(self) -> list[str]:
        return self._names(self.cleaned_data.get("sort") or "", "sort", signed=True)

    def clean_filters(self) -> dict[str, str]:
        raw = (self.cleaned_data.get("filters") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("Write the column searches as JSON.") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) and len(v) <= 200 for v in value.values()):
            raise forms.ValidationError('Column searches are {"column": "text"} (at most 200 characters each).')
        unknown = [k for k in value if k not in self.report_columns]
        if unknown:
            raise forms.ValidationError(f"“{str(unknown[0])[:40]}” is not a column of this report.")
        return {k: v for k, v in value.items() if v.strip()}
