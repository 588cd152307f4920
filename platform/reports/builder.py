"""The report builder: /reports/new/ and /reports/<id>/edit/ (a Bootstrap form with reports/builder.js), and its
live preview (POST …/preview/: the first rows and the chart as JSON, or a 400 problem naming the bad field).

Who may build: every signed-in user (personal reports, on the datasets they may see); editors of a section may
also save to it. Who may edit: a personal report's owner; a shared report's section editors. Any other report id
answers 404, like every other report URL (the builder never confirms that a report exists). Saving goes through
reports.services.save_report with the user's change reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.problems import problem

from . import services
from .access import report_or_404, visible_columns
from .datasets import get_dataset
from .forms import ChartSettings, ReportBuilderForm, may_edit_report
from .models import ReportDefinition
from .query import OPERATORS, QueryError, TableRequest, chart_request, json_value, parse_sort

PREVIEW_ROWS = 10
PREVIEW_IGNORES = frozenset({"title", "description", "target", "reason"})  # not needed to run the query


def _editable_or_404(request: HttpRequest, pk: int | None) -> ReportDefinition | None:
    if pk is None:
        return None
    report = report_or_404(request.user, pk)
    if not may_edit_report(request.user, report):
        raise Http404("No such report.")
    return report


def _catalog(form: ReportBuilderForm) -> dict[str, Any]:
    """Per visible dataset: its visible columns with type, title and the operators their type takes (for the JS)."""
    result = {}
    for key, dataset in form.datasets.items():
        spec = get_dataset(key)
        result[key] = [
            {"name": c.name, "title": c.title, "type": str(c.type), "operators": list(OPERATORS[c.type])}
            for c in spec.columns
            if c.name in visible_columns(form.user, dataset, spec)
        ]
    return result


def _ordered_columns(form: ReportBuilderForm) -> list[dict[str, Any]]:
    """The column checkboxes: the chosen ones first, in their order, then the rest in registry order."""
    getlist = getattr(form.data, "getlist", None)
    chosen = list(getlist("columns")) if form.is_bound and getlist else list(form.initial.get("columns") or [])
    titles = dict(form.fields["columns"].choices)  # type: ignore[attr-defined]
    names = [n for n in chosen if n in titles] + [n for n in titles if n not in chosen]
    return [{"name": n, "title": titles[n], "checked": n in chosen} for n in names]


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def builder(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    """GET/POST /reports/new/ and /reports/<id>/edit/: the whole definition in one form; saved with a reason."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    report = _editable_or_404(request, pk)
    if request.method == "POST":
        form = ReportBuilderForm(request.POST, user=request.user, report=report)
        if form.is_valid():
            target = form.apply(report or ReportDefinition())
            try:
                services.save_report(target, actor=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:  # the model's own checks (e.g. two saves racing for one slug)
                form.add_error(None, exc)
            else:
                return HttpResponseRedirect(target.get_absolute_url())
        status = 400
    else:
        initial = {"dataset": request.GET.get("dataset")} if report is None and request.GET.get("dataset") else None
        form = ReportBuilderForm(user=request.user, report=report, **({"initial": initial} if initial else {}))
        status = 200
    preview_url = (
        reverse("reports:builder-preview", kwargs={"pk": report.pk}) if report else reverse("reports:new-preview")
    )
    trail = [("Reports", reverse("reports:list"))]
    if report is not None:
        trail.append((report.title, report.get_absolute_url()))
    trail.append(("Edit" if report else "New report", ""))
    context = {
        "form": form,
        "report": report,
        "column_boxes": _ordered_columns(form),
        "catalog": _catalog(form),
        "preview_url": preview_url,
        "breadcrumb_trail": trail,
    }
    return render(request, "reports/builder.html", context, status=status)


@never_cache
@require_POST
def preview(request: HttpRequest, pk: int | None = None) -> HttpResponseBase:
    """POST …/preview/ (the builder's form, with CSRF): {columns, rows, total, chart} or a 400 problem."""
    if not request.user.is_authenticated:
        return problem(401, "Sign in to build reports.")
    report = _editable_or_404(request, pk)
    form = ReportBuilderForm(request.POST, user=request.user, report=report)
    form.is_valid()
    errors = {name: errs for name, errs in form.errors.items() if name not in PREVIEW_IGNORES}
    if errors or form.engine is None:
        invalid = list(form.problems)
        named = {p["name"].split("[", 1)[0].split(".", 1)[0] for p in invalid}
        for name, messages in errors.items():
            if name not in named:
                reason = " ".join(str(m) for m in messages)
                invalid.append({"name": name if name != "__all__" else "query", "reason": reason})
        if not invalid:
            invalid.append({"name": "dataset", "reason": "choose a dataset you may see"})
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in invalid)
        return problem(400, f"Invalid report. {detail}"[:500], invalid_params=invalid)
    data = form.cleaned_data
    engine = form.engine
    columns = list(data["columns"])
    try:
        order = parse_sort(engine, data["default_sort"])
        page = engine.page(
            TableRequest(columns=columns, filters=data.get("parsed_filters", []), order=order, length=PREVIEW_ROWS)
        )
        chart = None
        if data.get("chart_type"):
            chart = engine.aggregate(chart_request(ChartSettings(data)), data.get("parsed_filters", []))
    except QueryError as exc:
        return problem(400, f"Invalid report. {exc.field}: {exc.message}.", invalid_params=[exc.as_problem()])
    spec = form.spec
    assert spec is not None
    return JsonResponse(
        {
            "columns": [{"name": n, "title": spec.column(n).title} for n in columns],  # type: ignore[union-attr]
            "rows": [[json_value(row[n]) for n in columns] for row in page.rows],
            "total": page.total,
            "chart_type": data.get("chart_type") or "",
            "chart": chart,
        }
    )
