"""The catalog pages, the report page, and the report's JSON endpoints (table, chart) and exports (CSV, XLSX).

Every view is read-only and signed-in; a dataset or report the user may not see is a 404 (never a 403, so a page
never confirms that it exists). Columns the user has no clearance for are never selected: the engine each view
uses (reports.access.engine_for) does not know them.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.mfa import has_mfa, step_up_url
from core.exports import XLSX_TYPE, Echo, spreadsheet_safe, xlsx_available
from core.problems import problem
from core.security import EventType, record_security_event
from core.templatetags.components import Column

from . import services
from .access import (
    dataset_freshness,
    dataset_or_404,
    engine_for,
    report_or_404,
    visible_columns,
    visible_datasets,
    visible_reports,
)
from .datasets import ColumnType, get_dataset
from .forms import SavedViewForm, may_edit_report
from .models import DatasetColumn, ReportDefinition, SavedView
from .query import (
    DatasetQuery,
    QueryError,
    TableRequest,
    chart_request,
    json_value,
    parse_datatables,
    parse_sort,
)

SAMPLE_ROWS = 10
MAX_XLSX_ROWS = 1_048_575  # Excel's sheet limit, less the header row
View = Callable[..., HttpResponseBase]


def _signed_in(json: bool) -> Callable[[View], View]:
    """GET/HEAD only, never cached; pages send strangers to sign in, JSON endpoints answer 401."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                if json:
                    return problem(401, "Sign in to read reports.")
                return redirect_to_login(request.get_full_path())
            return view(request, *args, **kwargs)

        return require_safe(never_cache(wrapper))

    return decorate


def _query_problem(exc: QueryError) -> JsonResponse:
    return problem(400, f"Invalid request. {exc.field or 'query'}: {exc.message}.", invalid_params=[exc.as_problem()])


def _needs_mfa(request: HttpRequest, report: ReportDefinition) -> bool:
    return bool(report.section is not None and report.section.require_mfa and not has_mfa(request))


# ---------------------------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------------------------
@_signed_in(json=False)
def catalog(request: HttpRequest) -> HttpResponse:
    """GET /catalog/?q=…: the datasets the user may see, searchable by title, description, key and source."""
    q = request.GET.get("q", "").strip()[:100]
    datasets = visible_datasets(request.user).select_related("owner_section", "sync_source__freshness")
    if q:
        datasets = datasets.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(key__icontains=q) | Q(source_system__icontains=q)
        )
    entries = [{"dataset": d, "freshness": dataset_freshness(d)} for d in datasets]
    return render(request, "reports/catalog.html", {"entries": entries, "q": q})


@_signed_in(json=False)
def dataset_detail(request: HttpRequest, key: str) -> HttpResponse:
    """GET /catalog/<key>/: the columns the user may see, sample rows, lineage, freshness and steward."""
    dataset = dataset_or_404(request.user, key)
    spec = get_dataset(dataset.key)
    shown = visible_columns(request.user, dataset, spec)
    descriptions = dict(DatasetColumn.objects.filter(dataset=dataset).values_list("name", "description"))
    columns = [
        {"name": c.name, "title": c.title, "type": c.type, "description": descriptions.get(c.name, "")}
        for c in spec.columns
        if c.name in shown
    ]
    sample: list[list[Any]] = []
    if shown:
        engine = DatasetQuery(spec, shown)
        order = parse_sort(engine, [s for s in spec.default_sort if s.removeprefix("-") in shown])
        page = engine.page(TableRequest(columns=shown, order=order, length=SAMPLE_ROWS))
        sample = [[row[name] for name in shown] for row in page.rows]
    context = {
        "dataset": dataset,
        "spec": spec,
        "columns": columns,
        "hidden_count": len(spec.columns) - len(shown),
        "sample_titles": [c["title"] for c in columns],
        "sample": sample,
        "freshness": dataset_freshness(dataset),
        "reports": visible_reports(request.user).filter(dataset=dataset),
        "breadcrumb_trail": [("Data catalog", reverse("catalog:list")), (dataset.title, "")],
    }
    return render(request, "reports/dataset.html", context)


# ---------------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------------
class ReportQuery:
    """One user's view of one report: the engine limited to their columns, the report's filters and sort."""

    def __init__(self, user: Any, report: ReportDefinition, view: SavedView | None = None) -> None:
        self.report = report
        self.view = view
        self.spec = get_dataset(report.dataset.key)
        self.engine = engine_for(user, report.dataset)
        # The report's own filters and sort were validated against the whole dataset when it was saved; they are
        # parsed with the whole column list (a filter may use a column this user cannot see: it still applies).
        author = DatasetQuery(self.spec, self.spec.column_names)
        self.filters = author.parse_filters(report.filters)
        self.columns = [name for name in report.columns if name in self.engine.columns]
        if view is not None and view.columns:
            # A saved view reorders (or narrows) the report's columns; never adds one the report does not have.
            self.columns = [name for name in view.columns if name in self.columns] or self.columns
        self.order = [(c, d) for c, d in parse_sort(author, report.default_sort) if c in self.engine.columns]

    def table_columns(self) -> list[Column]:
        return [
            Column(name, self.spec.column(name).title, searchable=True)  # type: ignore[union-attr]
            for name in self.columns
        ]

    def chart_visible(self) -> bool:
        chart = chart_request(self.report)
        used = [chart.x, chart.y, chart.group_by]
        return bool(self.report.chart_type) and all(not name or name in self.engine.columns for name in used)

    def table_request(self, request: HttpRequest, paged: bool = True) -> tuple[int, TableRequest]:
        parsed = parse_datatables(request.GET, self.engine, self.columns, self.filters, self.order, paged=paged)
        return parsed.draw, parsed.table


def _report_urls(report: ReportDefinition, view: SavedView | None = None) -> dict[str, str]:
    suffix = f"?view={view.pk}" if view is not None else ""
    return {
        "data": reverse("reports:report-data", kwargs={"pk": report.pk}) + suffix,
        "chart": reverse("reports:report-chart", kwargs={"pk": report.pk}),
        "csv": reverse("reports:report-export-csv", kwargs={"pk": report.pk}) + suffix,
        "xlsx": reverse("reports:report-export-xlsx", kwargs={"pk": report.pk}) + suffix,
        "save_view": reverse("reports:view-save", kwargs={"pk": report.pk}),
    }


def _view_or_404(user: Any, report: ReportDefinition, raw: Any) -> SavedView | None:
    """The user's own saved view of this report named by ?view=…; another user's (or a bad id) is a 404."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 12:
        raise Http404("No such view.")
    view = SavedView.objects.filter(pk=int(raw), user=user, report=report).first()
    if view is None:
        raise Http404("No such view.")
    return view


@_signed_in(json=False)
def report_list(request: HttpRequest) -> HttpResponse:
    """GET /reports/: the reports the user may run, personal and shared."""
    reports = visible_reports(request.user).order_by("section__name", "title")
    return render(request, "reports/report_list.html", {"reports": reports})


@_signed_in(json=False)
def report_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /reports/<id>/[?view=<saved view>]: the report's table (server-side) and chart, freshness, exports."""
    report = report_or_404(request.user, pk)
    if _needs_mfa(request, report):
        return HttpResponseRedirect(step_up_url(request, request.get_full_path()))
    view = _view_or_404(request.user, report, request.GET.get("view"))
    return _render_report(request, report, view)


def _render_report(
    request: HttpRequest,
    report: ReportDefinition,
    view: SavedView | None = None,
    view_form: SavedViewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        query = ReportQuery(request.user, report, view)
    except QueryError as exc:
        # The definition no longer fits its dataset (a column was renamed in code): say so, never a 500.
        context = {"report": report, "problem": f"{exc.field}: {exc.message}"}
        return render(request, "reports/report_broken.html", context, status=409)
    context = {
        "report": report,
        "dataset": report.dataset,
        "freshness": dataset_freshness(report.dataset),
        "columns": query.table_columns(),
        "hidden_count": len(report.columns) - len(query.columns),
        "chart_visible": query.chart_visible(),
        "default_order": json.dumps(
            [[query.columns.index(c), "desc" if d else "asc"] for c, d in query.order if c in query.columns]
        ),
        "urls": _report_urls(report, view),
        "view": view,
        "saved_views": SavedView.objects.filter(user=_user(request), report=report),
        "view_form": view_form,
        "view_state": json.dumps(_view_state(query, view)),
        "can_edit": may_edit_report(request.user, report),
        "breadcrumb_trail": [("Reports", reverse("reports:list")), (report.title, "")],
        "xlsx": xlsx_available(),
        "filters": [
            {"column": query.spec.column(f.column).title, "op": f.op, "value": _describe(f.value)}  # type: ignore[union-attr]
            for f in query.filters
        ],
    }
    return render(request, "reports/report.html", context, status=status)


def _view_state(query: ReportQuery, view: SavedView | None) -> dict[str, Any]:
    """What report.js applies to the table once it is built: a saved view's searches (by column index) and sort."""
    if view is None:
        return {}
    order = [
        [query.columns.index(name.removeprefix("-")), "desc" if name.startswith("-") else "asc"]
        for name in view.sort
        if name.removeprefix("-") in query.columns
    ]
    searches = {str(query.columns.index(k)): v for k, v in view.filters.items() if k in query.columns}
    return {"search": view.search, "columns": searches, "order": order}


def _describe(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(json_value(v)) for v in value)
    return str(json_value(value))


def _report_json(view: Callable[[HttpRequest, ReportQuery], HttpResponseBase]) -> View:
    """Resolve the report (404 if not the user's to see), then answer a QueryError as a 400 problem."""

    @wraps(view)
    def wrapper(request: HttpRequest, pk: int) -> HttpResponseBase:
        report = report_or_404(request.user, pk)
        if _needs_mfa(request, report):
            return problem(403, "This section requires a second factor; open the report page to provide it.")
        saved = _view_or_404(request.user, report, request.GET.get("view"))
        try:
            return view(request, ReportQuery(request.user, report, saved))
        except QueryError as exc:
            return _query_problem(exc)

    return wrapper


@_signed_in(json=True)
@_report_json
def report_data(request: HttpRequest, query: ReportQuery) -> HttpResponse:
    """GET /reports/<id>/data/: one page of rows in DataTables' server-side protocol."""
    draw, table = query.table_request(request)
    page = query.engine.page(table)
    return JsonResponse({"draw": draw, "recordsTotal": page.total, "recordsFiltered": page.filtered, "data": page.rows})


@_signed_in(json=True)
@_report_json
def report_chart(request: HttpRequest, query: ReportQuery) -> HttpResponse:
    """GET /reports/<id>/chart/: the report's chart as Chart.js data, aggregated by the database."""
    if not query.report.chart_type:
        return problem(404, "This report has no chart.")
    if not query.chart_visible():
        return problem(403, "The chart uses a column you are not cleared to see.")
    return JsonResponse(query.engine.aggregate(chart_request(query.report), query.filters))


def _export(request: HttpRequest, query: ReportQuery, fmt: str) -> HttpResponseBase:
    _draw, table = query.table_request(request, paged=False)
    count = query.engine.count(table)
    if fmt == "xlsx" and count > MAX_XLSX_ROWS:
        raise QueryError(f"{count} rows do not fit in one spreadsheet; narrow the search or export CSV", "format")
    report = query.report
    # Recorded before the first byte is sent: an export that the client abandons was still an export.
    record_security_event(
        EventType.EXPORT,
        request=request,
        section=report.section,
        reason=f"report {report.pk}: {report.title}"[:255],
        report=report.pk,
        dataset=report.dataset.key,
        rows=count,
        format=fmt,
        columns=list(table.columns),
        filters=report.filters,
        search=table.search,
        column_search=dict(table.column_search),
        order=[f"{'-' if d else ''}{c}" for c, d in table.order],
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"{report.slug}-{stamp}.{fmt}"
    titles = [query.spec.column(name).title for name in table.columns]  # type: ignore[union-attr]
    rows = query.engine.iterate(table)
    if fmt == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            _csv_lines(titles, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        response = FileResponse(_xlsx_file(titles, rows, query), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: Any) -> Any:
    value = json_value(value)
    return spreadsheet_safe(value) if isinstance(value, str) else value


def _csv_lines(titles: list[str], rows: Iterator[list[Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(titles)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def _xlsx_file(titles: list[str], rows: Iterator[list[Any]], query: ReportQuery) -> Any:
    """The workbook in openpyxl's write-only mode (rows go to disk as they come), in a temporary file that
    FileResponse streams and closes (and so deletes)."""
    from openpyxl import Workbook

    types = [query.spec.column(name).type for name in query.columns]  # type: ignore[union-attr]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=query.report.title[:31] or "Report")
    sheet.append(titles)
    for row in rows:
        sheet.append(
            [value if kind != ColumnType.TEXT else _cell(value) for value, kind in zip(row, types, strict=False)]
        )
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    workbook.save(handle)
    handle.seek(0)
    return handle


@_signed_in(json=True)
@_report_json
def report_export_csv(request: HttpRequest, query: ReportQuery) -> HttpResponseBase:
    """GET /reports/<id>/export.csv: the current filtered result (report filters, search, sort), streamed."""
    return _export(request, query, "csv")


@_signed_in(json=True)
@_report_json
def report_export_xlsx(request: HttpRequest, query: ReportQuery) -> HttpResponseBase:
    """GET /reports/<id>/export.xlsx: the same as a spreadsheet (when openpyxl is installed)."""
    if not xlsx_available():
        return problem(404, "XLSX export is not available on this server; use CSV.")
    return _export(request, query, "xlsx")


# ---------------------------------------------------------------------------------------------------------------
# Saved views (per user: only ever the user's own)
# ---------------------------------------------------------------------------------------------------------------
@never_cache
@require_POST
def save_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """POST /reports/<id>/views/: save the table's current state under a name (same name: replaced)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("reports:report", kwargs={"pk": pk}))
    report = report_or_404(request.user, pk)
    if _needs_mfa(request, report):
        return HttpResponseRedirect(step_up_url(request, report.get_absolute_url()))
    try:
        columns = ReportQuery(request.user, report).columns
    except QueryError as exc:
        return problem(409, f"This report no longer fits its dataset: {exc.message}.")
    form = SavedViewForm(request.POST, columns=columns)
    if not form.is_valid():
        return _render_report(request, report, view_form=form, status=400)
    data = form.cleaned_data
    saved = services.save_view(
        SavedView(
            user=request.user,
            report=report,
            name=data["name"],
            search=data["search"],
            filters=data["filters"],
            columns=data["columns"],
            sort=data["sort"],
        )
    )
    return HttpResponseRedirect(saved.get_absolute_url())


@never_cache
@require_POST
def delete_view(request: HttpRequest, pk: int, view_pk: int) -> HttpResponseBase:
    """POST /reports/<id>/views/<view id>/delete/: delete one of the user's own views (anyone else's: 404)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("reports:report", kwargs={"pk": pk}))
    report = report_or_404(request.user, pk)
    user: Any = request.user
    view = SavedView.objects.filter(pk=view_pk, user=user, report=report).first()
    if view is None:
        raise Http404("No such view.")
    services.delete_view(view)
    return HttpResponseRedirect(report.get_absolute_url())


def _user(request: HttpRequest) -> Any:
    return request.user
