"""The query engine: select, filter, search, sort, page and aggregate one dataset, in SQL through the ORM.

Everything a caller asks for is checked against the dataset's whitelist *and* the columns the user may see
(`visible`): a column name is only ever looked up in that list and turned into the registered ORM path, and a
value only ever reaches the database as a query parameter, parsed to the column's type first. Anything else
raises `QueryError` (a message and the offending field), which the endpoints answer as a 400 problem.

The report pages, the exports, and later the API and the report builder all use the same three calls:

    engine = DatasetQuery(spec, visible_columns)
    filters = engine.parse_filters(raw_filters)                 # [{"column", "op", "value"}, …]
    page = engine.page(TableRequest(columns=[…], filters=filters, search="acme", start=0, length=25))
    chart = engine.aggregate(ChartRequest(x="supplier", y="amount", aggregation="sum"), filters)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncYear

from core.datatables import MAX_PAGE_LENGTH, MAX_SEARCH_LENGTH, InvalidParams, parse_table_query
from core.templatetags.components import Column

from .datasets import NUMERIC_TYPES, ColumnType, DatasetColumnSpec, DatasetSpec

MAX_VALUE_LENGTH = 200
MAX_IN_VALUES = 100
MAX_FILTERS = 30
MAX_CHART_LABELS = 50
MAX_CHART_SERIES = 12
MAX_OFFSET = 10_000_000

TEXT_OPERATORS = ("eq", "ne", "contains", "startswith", "in", "isnull")
ORDERED_OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "isnull")
BOOLEAN_OPERATORS = ("eq", "ne", "isnull")
OPERATORS: dict[ColumnType, tuple[str, ...]] = {
    ColumnType.TEXT: TEXT_OPERATORS,
    ColumnType.INTEGER: ORDERED_OPERATORS,
    ColumnType.DECIMAL: ORDERED_OPERATORS,
    ColumnType.DATE: ORDERED_OPERATORS,
    ColumnType.BOOLEAN: BOOLEAN_OPERATORS,
}
AGGREGATIONS = {"count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max}
BUCKETS = {"day": TruncDay, "month": TruncMonth, "year": TruncYear}
CHART_TYPES = ("bar", "line", "pie", "doughnut")
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_DECIMAL = re.compile(r"^[+-]?\d{1,15}(\.\d{1,6})?$")


class QueryError(ValueError):
    """A request the engine refuses: `message` says what to change, `field` where (a parameter or a column)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def field_name(self) -> str:
        return self.field or "__all__"

    def as_problem(self) -> dict[str, Any]:
        """The `invalid_params` entry of the 400 problem response."""
        return {"name": self.field or "query", "reason": self.message}


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class TableRequest:
    """One page of rows: which columns, which rows, in which order, which slice."""

    columns: Sequence[str]
    filters: Sequence[Filter] = ()
    search: str = ""
    column_search: Mapping[str, str] = field(default_factory=dict)
    order: Sequence[tuple[str, bool]] = ()  # (column, descending), most significant first
    start: int = 0
    length: int = 25


@dataclass(frozen=True)
class ChartRequest:
    x: str
    aggregation: str = "count"
    y: str = ""
    group_by: str = ""
    bucket: str = ""


@dataclass(frozen=True)
class Page:
    total: int
    filtered: int
    rows: list[dict[str, Any]]


class DatasetQuery:
    """Queries over one dataset, limited to the columns one user may see."""

    def __init__(self, spec: DatasetSpec, visible: Sequence[str]) -> None:
        self.spec = spec
        allowed = set(visible)
        self.columns: dict[str, DatasetColumnSpec] = {c.name: c for c in spec.columns if c.name in allowed}

    # Names and values ----------------------------------------------------------------------------------------------
    def column(self, name: Any, where: str) -> DatasetColumnSpec:
        """The whitelisted column called `name`; anything else (unknown, hidden, not a string) is a QueryError."""
        column = self.columns.get(name) if isinstance(name, str) else None
        if column is None:
            shown = str(name)[:60] if isinstance(name, str | int) else type(name).__name__
            raise QueryError(f"unknown column {shown!r}; the columns are: {', '.join(self.columns)}", where)
        return column

    def parse_value(self, column: DatasetColumnSpec, raw: Any, where: str) -> Any:
        """`raw` (from JSON or a query string) as a value of the column's type, or a QueryError saying why not."""
        kind = column.type
        if isinstance(raw, bool) and kind != ColumnType.BOOLEAN:
            raise QueryError(f"{column.name} takes a {kind} value, not true/false", where)
        if isinstance(raw, dict | list) or raw is None:
            raise QueryError(f"{column.name} takes one {kind} value", where)
        text = str(raw).strip()
        if len(text) > MAX_VALUE_LENGTH:
            raise QueryError(f"values are at most {MAX_VALUE_LENGTH} characters", where)
        if kind == ColumnType.TEXT:
            return str(raw)
        value = _PARSERS[kind](raw, text)
        if value is None:
            raise QueryError(f"{column.name} takes {_EXPECTED[kind]}, not {text[:40]!r}", where)
        return value

    # Filters -------------------------------------------------------------------------------------------------------
    def parse_filters(self, raw: Any, where: str = "filters") -> list[Filter]:
        """[{"column", "op", "value"}, …] (a report's stored filters, or a request's) → validated Filters."""
        if raw in (None, ""):
            return []
        if not isinstance(raw, list):
            raise QueryError("must be a list of {column, op, value} objects", where)
        if len(raw) > MAX_FILTERS:
            raise QueryError(f"at most {MAX_FILTERS} filters", where)
        return [self.parse_filter(item, f"{where}[{index}]") for index, item in enumerate(raw)]

    def parse_filter(self, raw: Any, where: str = "filter") -> Filter:
        if not isinstance(raw, dict):
            raise QueryError("a filter is an object with column, op and value", where)
        column = self.column(raw.get("column"), f"{where}.column")
        op = raw.get("op", "eq")
        allowed = OPERATORS[column.type]
        if not isinstance(op, str) or op not in allowed:
            shown = str(op)[:30] if isinstance(op, str | int) else type(op).__name__
            raise QueryError(
                f"operator {shown!r} does not fit the {column.type} column {column.name}; use one of: "
                + ", ".join(allowed),
                f"{where}.op",
            )
        value = raw.get("value")
        at = f"{where}.value"
        if op == "isnull":
            parsed: Any = self.parse_value(_BOOLEAN, True if value is None else value, at)
        elif op == "in":
            items = value if isinstance(value, list) else str(value if value is not None else "").split(",")
            items = [item for item in items if not (isinstance(item, str) and not item.strip())]
            if not items or len(items) > MAX_IN_VALUES:
                raise QueryError(f"'in' takes 1 to {MAX_IN_VALUES} values", at)
            parsed = [self.parse_value(column, item, at) for item in items]
        elif op == "between":
            items = value if isinstance(value, list) else str(value if value is not None else "").split(",")
            if len(items) != 2:
                raise QueryError("'between' takes two values: [low, high]", at)
            parsed = (self.parse_value(column, items[0], at), self.parse_value(column, items[1], at))
        else:
            parsed = self.parse_value(column, value, at)
        return Filter(column.name, op, parsed)

    def condition(self, item: Filter) -> Q:
        path = self.spec.column(item.column).path  # type: ignore[union-attr]
        if item.op == "ne":
            return ~Q(**{path: item.value})
        if item.op == "eq":
            return Q(**{path: item.value})
        if item.op == "contains":
            return Q(**{f"{path}__icontains": item.value})
        if item.op == "startswith":
            return Q(**{f"{path}__istartswith": item.value})
        if item.op == "between":
            return Q(**{f"{path}__range": item.value})
        return Q(**{f"{path}__{item.op}": item.value})  # lt lte gt gte in isnull: ORM lookups of the same name

    # Querysets -----------------------------------------------------------------------------------------------------
    def filtered(
        self, filters: Sequence[Filter] = (), search: str = "", column_search: Mapping[str, str] | None = None
    ) -> QuerySet[Any]:
        queryset = self.spec.queryset()
        for item in filters:
            queryset = queryset.filter(self.condition(item))
        if len(search) > MAX_SEARCH_LENGTH:
            raise QueryError(f"at most {MAX_SEARCH_LENGTH} characters", "search")
        if search.strip():
            queryset = queryset.filter(self.search_condition(search.strip()))
        for name, value in (column_search or {}).items():
            where = f"search[{name}]"
            column = self.column(name, where)
            if len(value) > MAX_SEARCH_LENGTH:
                raise QueryError(f"at most {MAX_SEARCH_LENGTH} characters", where)
            if not value.strip():
                continue
            if column.type == ColumnType.TEXT:
                queryset = queryset.filter(**{f"{column.path}__icontains": value.strip()})
            else:
                queryset = queryset.filter(**{column.path: self.parse_value(column, value, where)})
        return queryset

    def search_condition(self, needle: str) -> Q:
        """The global search: any visible text column contains it, or a number/date column equals it."""
        condition = Q()
        for column in self.columns.values():
            if column.type == ColumnType.TEXT:
                condition |= Q(**{f"{column.path}__icontains": needle})
                continue
            try:
                value = self.parse_value(column, needle, "search")
            except QueryError:
                continue  # "acme" is no amount: that column simply does not match
            if column.type != ColumnType.BOOLEAN:
                condition |= Q(**{column.path: value})
        return condition if condition else Q(pk__in=[])

    def ordering(self, order: Sequence[tuple[str, bool]]) -> list[str]:
        fields = []
        for index, (name, descending) in enumerate(order):
            column = self.column(name, f"order[{index}]")
            fields.append(("-" if descending else "") + column.path)
        # A unique tiebreaker, so pages never overlap or skip rows. It runs in the first column's direction: an index
        # on that column holds its rows in primary-key order, so `amount DESC, id DESC` is read backwards off the
        # index, where the mixed `amount DESC, id ASC` would sort the whole table for every page.
        tiebreaker = "-pk" if fields and fields[0].startswith("-") else "pk"
        return [*fields, tiebreaker]

    def select(self, names: Sequence[str], where: str = "columns") -> list[DatasetColumnSpec]:
        if not names:
            raise QueryError("choose at least one column", where)
        return [self.column(name, f"{where}[{index}]") for index, name in enumerate(names)]

    def page(self, request: TableRequest) -> Page:
        """One page of rows, with the total and filtered counts DataTables shows."""
        columns = self.select(request.columns)
        if not 1 <= request.length <= MAX_PAGE_LENGTH:
            raise QueryError(f"must be between 1 and {MAX_PAGE_LENGTH}", "length")
        if not 0 <= request.start <= MAX_OFFSET:
            raise QueryError(f"must be between 0 and {MAX_OFFSET}", "start")
        base = self.filtered(request.filters)
        matching = self.filtered(request.filters, request.search, request.column_search)
        searching = bool(request.search.strip() or any(v.strip() for v in request.column_search.values()))
        total = base.count()
        filtered = matching.count() if searching else total
        sliced = matching.order_by(*self.ordering(request.order)).values(*[c.path for c in columns])
        rows = list(sliced[request.start : request.start + request.length])
        return Page(total=total, filtered=filtered, rows=[_row(columns, row) for row in rows])

    def iterate(self, request: TableRequest, chunk_size: int = 2000) -> Iterator[list[Any]]:
        """Every matching row (no paging) as a list of values, streamed from the database (exports)."""
        columns = self.select(request.columns)
        matching = self.filtered(request.filters, request.search, request.column_search)
        paths = [c.path for c in columns]
        yield from (
            list(values)
            for values in matching.order_by(*self.ordering(request.order))
            .values_list(*paths)
            .iterator(chunk_size=chunk_size)
        )

    def count(self, request: TableRequest) -> int:
        return self.filtered(request.filters, request.search, request.column_search).count()

    # Charts --------------------------------------------------------------------------------------------------------
    def check_chart(self, chart: ChartRequest) -> None:
        x = self.column(chart.x, "chart.x")
        if chart.aggregation not in AGGREGATIONS:
            raise QueryError(f"use one of: {', '.join(AGGREGATIONS)}", "chart.aggregation")
        if chart.aggregation != "count":
            y = self.column(chart.y, "chart.y")
            if y.type not in NUMERIC_TYPES and not (chart.aggregation in ("min", "max") and y.type == ColumnType.DATE):
                raise QueryError(f"{chart.aggregation} needs a number column, and {y.name} is {y.type}", "chart.y")
        elif chart.y:
            self.column(chart.y, "chart.y")
        if chart.group_by:
            self.column(chart.group_by, "chart.group_by")
        if chart.bucket:
            if chart.bucket not in BUCKETS:
                raise QueryError(f"use one of: {', '.join(BUCKETS)}", "chart.bucket")
            if x.type != ColumnType.DATE:
                raise QueryError("only a date on the x axis can be grouped by day, month or year", "chart.bucket")

    def aggregate(
        self, chart: ChartRequest, filters: Sequence[Filter] = (), search: str = "", column_search: Any = None
    ) -> dict[str, Any]:
        """Chart.js data ({labels, datasets}) grouped and aggregated by the database."""
        self.check_chart(chart)
        x = self.columns[chart.x]
        measure = AGGREGATIONS[chart.aggregation]
        value = measure(self.columns[chart.y].path if chart.aggregation != "count" else "pk")
        queryset = self.filtered(filters, search, column_search)
        x_expression: Any = BUCKETS[chart.bucket](x.path) if chart.bucket else F(x.path)
        queryset = queryset.annotate(atrium_x=x_expression)
        group = self.columns[chart.group_by].path if chart.group_by else None
        keys = ["atrium_x", group] if group else ["atrium_x"]
        limit = MAX_CHART_LABELS * MAX_CHART_SERIES
        rows = list(queryset.values(*keys).annotate(atrium_v=value).order_by(*keys)[:limit])
        labels: list[str] = []
        series: dict[str, dict[str, Any]] = {}
        label_of = _label_formatter(chart.bucket)
        y_title = _measure_title(chart, self.columns)
        for row in rows:
            label = label_of(row["atrium_x"])
            if label not in labels:
                if len(labels) >= MAX_CHART_LABELS:
                    continue
                labels.append(label)
            name = _display(row[group]) if group else y_title
            if name not in series and len(series) >= MAX_CHART_SERIES:
                continue
            series.setdefault(name, {})[label] = _number(row["atrium_v"])
        return {
            "labels": labels,
            "datasets": [
                {"label": name, "data": [values.get(label, 0) for label in labels]} for name, values in series.items()
            ],
        }


def validate_definition(spec: DatasetSpec, report: Any) -> None:
    """A report definition's columns, filters, sort and chart must fit its dataset (ReportDefinition.clean)."""
    engine = DatasetQuery(spec, spec.column_names)
    if not isinstance(report.columns, list) or not all(isinstance(n, str) for n in report.columns):
        raise QueryError('a list of column names, e.g. ["supplier", "amount"]', "columns")
    engine.select(report.columns)
    if len(set(report.columns)) != len(report.columns):
        raise QueryError("a column is listed twice", "columns")
    engine.parse_filters(report.filters)
    parse_sort(engine, report.default_sort, "default_sort")
    if report.chart_type:
        if report.chart_type not in CHART_TYPES:
            raise QueryError(f"use one of: {', '.join(CHART_TYPES)}", "chart_type")
        try:
            engine.check_chart(chart_request(report))
        except QueryError as exc:
            raise QueryError(exc.message, exc.field.replace("chart.", "chart_")) from None


def chart_request(report: Any) -> ChartRequest:
    return ChartRequest(
        x=report.chart_x,
        y=report.chart_y,
        aggregation=report.chart_aggregation,
        group_by=report.chart_group_by,
        bucket=report.chart_bucket,
    )


def parse_sort(engine: DatasetQuery, raw: Any, where: str = "sort") -> list[tuple[str, bool]]:
    """["-amount", "supplier"] → [("amount", True), ("supplier", False)]."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise QueryError('a list of column names, "-" for descending', where)
    order = []
    for index, item in enumerate(raw):
        if not isinstance(item, str):
            raise QueryError("a column name", f"{where}[{index}]")
        column = engine.column(item.removeprefix("-"), f"{where}[{index}]")
        order.append((column.name, item.startswith("-")))
    return order


# -----------------------------------------------------------------------------------------------------------------
# DataTables' server-side protocol, parsed by core.datatables with per-column search allowed
# -----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataTablesRequest:
    draw: int
    table: TableRequest


def parse_datatables(
    query: Mapping[str, Any],
    engine: DatasetQuery,
    columns: Sequence[str],
    filters: Sequence[Filter] = (),
    default_order: Sequence[tuple[str, bool]] = (),
    paged: bool = True,
) -> DataTablesRequest:
    """A DataTables request (its GET parameters) over `columns` → a TableRequest, or a QueryError.

    Columns are addressed by their index in `columns`; a client's `columns[i][data]` must name the same column
    as the server's (a mismatch means the page and the endpoint disagree). With `paged` false (exports), draw,
    start and length are not needed.
    """
    parsed = parse_table_query(
        query, [Column(name, name) for name in columns], column_search=True, default_length=25, paged=paged
    )
    if isinstance(parsed, InvalidParams):
        first = parsed.problems[0]
        raise QueryError(first["reason"], first["name"])
    for name in parsed.column_search:
        engine.column(name, f"search[{name}]")
    table = TableRequest(
        columns=list(columns),
        filters=filters,
        search=parsed.search,
        column_search=dict(parsed.column_search),
        order=[(column.name, descending) for column, descending in parsed.order] or list(default_order),
        start=parsed.start,
        length=parsed.length,
    )
    return DataTablesRequest(draw=parsed.draw, table=table)


# -----------------------------------------------------------------------------------------------------------------
# Values for JSON and for people
# -----------------------------------------------------------------------------------------------------------------
_BOOLEAN = DatasetColumnSpec("isnull", "isnull", ColumnType.BOOLEAN)


def _parse_integer(raw: Any, text: str) -> int | None:
    return int(text) if _INTEGER.match(text) else None


def _parse_decimal(raw: Any, text: str) -> Decimal | None:
    try:
        return Decimal(text) if _DECIMAL.match(text) else None
    except InvalidOperation:  # pragma: no cover - the pattern already refuses these
        return None


def _parse_date(raw: Any, text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _parse_boolean(raw: Any, text: str) -> bool | None:
    if isinstance(raw, bool):
        return raw
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text.lower())


_PARSERS = {
    ColumnType.INTEGER: _parse_integer,
    ColumnType.DECIMAL: _parse_decimal,
    ColumnType.DATE: _parse_date,
    ColumnType.BOOLEAN: _parse_boolean,
}
_EXPECTED = {
    ColumnType.INTEGER: "a whole number",
    ColumnType.DECIMAL: "a number like 1234.50",
    ColumnType.DATE: "a date as YYYY-MM-DD",
    ColumnType.BOOLEAN: "true or false",
}


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _row(columns: Sequence[DatasetColumnSpec], row: Mapping[str, Any]) -> dict[str, Any]:
    return {column.name: json_value(row[column.path]) for column in columns}


def _display(value: Any) -> str:
    if value is None:
        return "(empty)"
    return str(json_value(value))


def _number(value: Any) -> float | int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, date):
        return int(value.strftime("%Y%m%d"))
    return round(float(value), 2)


def _label_formatter(bucket: str) -> Any:
    def label(value: Any) -> str:
        if value is None:
            return "(empty)"
        if bucket and isinstance(value, date):
            day = value if not hasattr(value, "date") else value.date()
            return {"day": day.isoformat(), "month": day.strftime("%Y-%m"), "year": day.strftime("%Y")}[bucket]
        return _display(value)

    return label


def _measure_title(chart: ChartRequest, columns: Mapping[str, DatasetColumnSpec]) -> str:
    if chart.aggregation == "count":
        return "Rows"
    names = {"sum": "Sum", "avg": "Average", "min": "Minimum", "max": "Maximum"}
    return f"{names[chart.aggregation]} of {columns[chart.y].title.lower()}"
