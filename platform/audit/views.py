"""The change-history pages: one object's versions with diffs, a section's timeline, the platform-wide timeline,
their DataTables JSON endpoint and their exports.

Every page is read-only (GET/HEAD only; anything else is 405) and answers 404, never 403, to a signed-in user who
may not read it, so the pages never confirm that another section's object exists.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.datatables import InvalidParams, TableQuery, parse_table_query
from core.exports import XLSX_TYPE, Echo, spreadsheet_safe, xlsx_available
from core.problems import problem
from core.security import EventType, record_security_event
from core.templatetags.components import Column
from tenants.models import Section
from tenants.permissions import can_edit_section, is_platform_admin

from . import pointintime
from .queries import (
    ACTIONS,
    HistoryModel,
    TimelineFilters,
    display,
    history_model_for,
    iterate_timeline,
    may_read_section,
    object_label,
    object_records,
    readable_section,
    record_section_id,
    scope_models,
    timeline,
    timeline_rows,
    versions,
)

VERSIONS_PER_PAGE = 20
# Only `when` sorts: the UNION is indexed by time in every branch, and sorting by anything else is not a
# question auditors ask of a change log.
SECTION_COLUMNS: tuple[Column, ...] = (
    Column("when", "When", searchable=False),
    Column("user", "Who", orderable=False),
    Column("model", "Table", orderable=False, searchable=False),
    Column("object", "Object", orderable=False),
    Column("action", "Action", orderable=False, searchable=False),
    Column("reason", "Reason", orderable=False),
    Column("history", "History", orderable=False, searchable=False),
)
PLATFORM_COLUMNS: tuple[Column, ...] = (
    *SECTION_COLUMNS[:2],
    Column("section", "Section", orderable=False, searchable=False),
    *SECTION_COLUMNS[2:],
)
EXPORT_FIELDS = ("when", "user", "section", "model", "object", "action", "reason", "history")


def export_formats() -> tuple[str, ...]:
    return ("csv", "xlsx", "json") if xlsx_available() else ("csv", "json")


# ---------------------------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------------------------
def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Read-only, never cached (history is per user), and signed in: pages redirect to sign-in, JSON gets 401."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.path.endswith("/data/"):
                return problem(401, "Sign in to read the change history.")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return require_safe(never_cache(wrapper))


def _section_or_404(request: HttpRequest, slug: str) -> Section:
    section = readable_section(request.user, slug)
    if section is None:
        raise Http404("No such section.")
    return section


def _platform_or_404(request: HttpRequest) -> None:
    if not may_read_section(request.user, None):
        raise Http404("No such page.")


# ---------------------------------------------------------------------------------------------------------------
# Per-object history
# ---------------------------------------------------------------------------------------------------------------
@_signed_in
def object_history(request: HttpRequest, app_label: str, model_name: str, pk: int) -> HttpResponse:
    """GET /audit/history/<app>/<model>/<pk>/: every version of one object, newest first, with its diff."""
    hm = history_model_for(app_label, model_name)
    if hm is None:
        raise Http404("No history for this kind of object.")
    records = object_records(hm, pk)
    # The newest version decides the section: an object that moved section belongs where it is (or was) last.
    if not records or not may_read_section(request.user, record_section_id(hm, records[0])):
        raise Http404("No such object.")
    page = Paginator(range(len(records)), VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    section_id = record_section_id(hm, records[0])
    section = Section.objects.filter(pk=section_id).first() if section_id is not None else None
    return render(
        request,
        "audit/object_history.html",
        {
            "hm": hm,
            "label": object_label(hm, records[0]),
            "pk": pk,
            "section": section,
            "page": page,
            "versions": versions(hm, records, page.object_list),
            # Default managers are unscoped here: /audit/ is a platform route, so no section is active.
            "exists": hm.model._default_manager.filter(pk=pk).exists(),
            "may_revert": may_revert_object(request.user, section_id),
            "revert_url": reverse(
                "audit:object-revert", kwargs={"app_label": app_label, "model_name": model_name, "pk": pk}
            ),
        },
    )


# ---------------------------------------------------------------------------------------------------------------
# Timeline filters
# ---------------------------------------------------------------------------------------------------------------
class TimelineFilterForm(forms.Form):
    """The timeline's filters; the same GET parameters drive the page, its JSON endpoint and its exports."""

    user = forms.CharField(label="User", max_length=150, required=False, help_text="Exact user name.")
    model = forms.ChoiceField(label="Table", required=False)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *((name, name.capitalize()) for name in ACTIONS)]
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD"
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD, inclusive"
    )

    def __init__(self, data: QueryDict, models: tuple[HistoryModel, ...]) -> None:
        super().__init__(data)
        self.models = {hm.key: hm for hm in models}
        self.fields["model"].choices = [("", "Any"), *((hm.key, hm.verbose_name) for hm in models)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self, search: str = "") -> TimelineFilters:
        data = self.cleaned_data
        return TimelineFilters(
            user=data.get("user") or "",
            model=self.models.get(data.get("model") or ""),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            search=search,
        )

    def problem_response(self) -> JsonResponse:
        params = [{"name": name, "reason": " ".join(str(e) for e in errors)} for name, errors in self.errors.items()]
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
        return problem(400, f"Invalid filter. {detail}", invalid_params=params)


def _filter_form(request: HttpRequest, section: Section | None) -> TimelineFilterForm:
    return TimelineFilterForm(request.GET, scope_models(section))


def _filter_query(request: HttpRequest) -> str:
    """The request's filter parameters only, to hand on to the JSON endpoint and the export links."""
    query = QueryDict(mutable=True)
    for name in TimelineFilterForm.base_fields:
        if request.GET.get(name):
            query[name] = request.GET[name]
    return query.urlencode()


# ---------------------------------------------------------------------------------------------------------------
# Timeline pages, JSON and exports (a section's, and the platform-wide one)
# ---------------------------------------------------------------------------------------------------------------
def _timeline_page(request: HttpRequest, section: Section | None, urls: dict[str, str]) -> HttpResponse:
    form = _filter_form(request, section)
    valid = form.is_valid()
    query = _filter_query(request)
    suffix = f"?{query}" if query else ""
    context = {
        "section": section,
        "form": form,
        "valid": valid,
        "columns": PLATFORM_COLUMNS if section is None else SECTION_COLUMNS,
        "data_url": urls["data"] + suffix,
        "exports": [(fmt.upper(), f"{urls['export'].replace('FORMAT', fmt)}{suffix}") for fmt in export_formats()],
        "reset_url": urls["page"],
    }
    return render(request, "audit/timeline.html", context, status=200 if valid else 400)


def _timeline_data(request: HttpRequest, section: Section | None) -> HttpResponse:
    form = _filter_form(request, section)
    if not form.is_valid():
        return form.problem_response()
    columns = PLATFORM_COLUMNS if section is None else SECTION_COLUMNS
    parsed = parse_table_query(request.GET, columns)
    if isinstance(parsed, InvalidParams):
        return parsed.response()
    return JsonResponse(_answer(parsed, section, form.filters(parsed.search.strip())))


def _answer(table: TableQuery, section: Section | None, filters: TimelineFilters) -> dict[str, Any]:
    """DataTables' response, with the search, sort and slice done by the database (not in memory: the timeline
    of a busy platform has far more rows than a page should load)."""
    newest_first = not table.order or table.order[0][1]
    matching = timeline(section, filters, newest_first=newest_first)
    total = timeline(section, TimelineFilters()).count()
    page = list(matching[table.start : table.start + table.length])
    return {
        "draw": table.draw,
        "recordsTotal": total,
        "recordsFiltered": matching.count() if filters != TimelineFilters() else total,
        "data": list(timeline_rows(page)),
    }


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        yield writer.writerow([spreadsheet_safe(str(row[name])) for name in EXPORT_FIELDS])


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps({name: row[name] for name in EXPORT_FIELDS}, ensure_ascii=False)
    yield "]\n"


def _timeline_export(request: HttpRequest, section: Section | None, fmt: str) -> HttpResponse:
    if fmt not in export_formats():
        raise Http404("No such export format.")
    form = _filter_form(request, section)
    if not form.is_valid():
        return form.problem_response()
    filters = form.filters()
    queryset = timeline(section, filters)
    count = queryset.count()
    # Recorded before the first byte is sent: an export that the client abandons was still an export.
    record_security_event(
        EventType.EXPORT,
        request=request,
        section=section,
        reason=f"change history of {section.slug if section else 'the platform'}",
        rows=count,
        format=fmt,
        filters=_filter_query(request),
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"changes-{section.slug if section else 'platform'}-{stamp}.{fmt}"
    rows = iterate_timeline(queryset)
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = StreamingHttpResponse(_json_chunks(rows), content_type="application/json")
    else:
        response = HttpResponse(_xlsx(rows), content_type=XLSX_TYPE)  # openpyxl builds the workbook in memory
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response  # type: ignore[return-value]


def _xlsx(rows: Iterator[dict[str, Any]]) -> bytes:
    import tablib

    dataset = tablib.Dataset(headers=list(EXPORT_FIELDS))
    for row in rows:
        dataset.append([spreadsheet_safe(str(row[name])) for name in EXPORT_FIELDS])
    buffer = io.BytesIO(dataset.export("xlsx"))
    return buffer.getvalue()


def _section_urls(section: Section) -> dict[str, str]:
    return {
        "page": reverse("audit:section-timeline", kwargs={"slug": section.slug}),
        "data": reverse("audit:section-timeline-data", kwargs={"slug": section.slug}),
        "export": reverse("audit:section-timeline-export", kwargs={"slug": section.slug, "fmt": "FORMAT"}),
    }


def _platform_urls() -> dict[str, str]:
    return {
        "page": reverse("audit:changes"),
        "data": reverse("audit:changes-data"),
        "export": reverse("audit:changes-export", kwargs={"fmt": "FORMAT"}),
    }


@_signed_in
def section_timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /audit/sections/<slug>/: every configuration change in one section."""
    section = _section_or_404(request, slug)
    return _timeline_page(request, section, _section_urls(section))


@_signed_in
def section_timeline_data(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /audit/sections/<slug>/data/: the section timeline in DataTables' server-side protocol."""
    return _timeline_data(request, _section_or_404(request, slug))


@_signed_in
def section_timeline_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """GET /audit/sections/<slug>/export/<fmt>/: the filtered section timeline as a file."""
    return _timeline_export(request, _section_or_404(request, slug), fmt)


@_signed_in
def changes(request: HttpRequest) -> HttpResponse:
    """GET /audit/changes/: every configuration change on the platform (auditors and platform admins)."""
    _platform_or_404(request)
    return _timeline_page(request, None, _platform_urls())


@_signed_in
def changes_data(request: HttpRequest) -> HttpResponse:
    _platform_or_404(request)
    return _timeline_data(request, None)


@_signed_in
def changes_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _platform_or_404(request)
    return _timeline_export(request, None, fmt)


# ---------------------------------------------------------------------------------------------------------------
# Point in time, and reverting to it
# ---------------------------------------------------------------------------------------------------------------
class PointInTimeForm(forms.Form):
    """The moment to look at; a date and time in the platform's time zone (seconds and fractions optional)."""

    at = forms.DateTimeField(
        label="As it was at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
        help_text="Date and time, YYYY-MM-DD HH:MM[:SS].",
    )

    def clean_at(self) -> Any:
        at = self.cleaned_data["at"]
        if at > timezone.now():
            raise forms.ValidationError("Choose a moment in the past: the future has no history yet.")
        return at


class RevertForm(PointInTimeForm):
    reason = forms.CharField(
        label="Reason for the revert",
        max_length=80,
        help_text="Recorded in the history of every object the revert changes.",
    )


def may_revert_section(user: Any, section: Section) -> bool:
    """Reverting writes configuration: the section's editors and platform admins, never auditors (read-only)."""
    return can_edit_section(user, section)


def _signed_in_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return require_POST(never_cache(wrapper))


@_signed_in
def section_as_of(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /audit/sections/<slug>/as-of/?at=…: the section's configuration as it was, and what a revert would do."""
    section = _section_or_404(request, slug)
    form = PointInTimeForm(request.GET or None)
    context: dict[str, Any] = {
        "section": section,
        "form": form,
        "may_revert": may_revert_section(request.user, section),
    }
    status = 200
    if request.GET:
        if form.is_valid():
            at = form.cleaned_data["at"]
            context.update(_as_of_context(section, at))
            # Shown again in the picker (to the second, in local time); the revert keeps the exact moment.
            context["form"] = PointInTimeForm(initial={"at": at})
            context["revert_form"] = RevertForm(initial={"at": at})
        else:
            status = 400
    return render(request, "audit/as_of.html", context, status=status)


def _as_of_context(section: Section, at: Any) -> dict[str, Any]:
    then = pointintime.snapshot(section, at)
    state = pointintime.section_state(then)
    return {
        "at": at,
        "at_iso": at.isoformat(),
        "existed": state is not None,
        "section_then": state.values if state is not None else {},
        "theme_then": pointintime.theme_name(state),
        "menu_then": pointintime.menu_tree(then),
        "roles_then": pointintime.roles(then),
        "other_tables": pointintime.other_tables(then),
        "differences": pointintime.differences(then, pointintime.current(section)) if state is not None else [],
    }


@_signed_in_post
def section_revert(request: HttpRequest, slug: str) -> HttpResponse:
    """POST /audit/sections/<slug>/revert/: make the whole section what it was at the chosen moment."""
    section = _section_or_404(request, slug)
    if not may_revert_section(request.user, section):
        raise PermissionDenied("Auditors read the history; only the section's editors can revert it.")
    form = RevertForm(request.POST)
    if not form.is_valid():
        return _revert_form_errors(request, section, form)
    at, reason = form.cleaned_data["at"], form.cleaned_data["reason"]
    try:
        result = pointintime.revert_section(section, at, actor=request.user, reason=reason)
    except pointintime.RevertError as exc:
        form.add_error(None, str(exc))
        return _revert_form_errors(request, section, form)
    record_security_event(
        EventType.CONFIG_REVERTED,
        request=request,
        section=section,
        reason=reason,
        at=at.isoformat(),
        restored=result.restored,
        changed=result.changed,
        deleted=result.deleted,
    )
    messages.success(
        request, f"{section.name} reverted to {pointintime.revert_reason(at, reason)}: {result.summary()}."
    )
    return HttpResponseRedirect(reverse("audit:section-timeline", kwargs={"slug": section.slug}))


def _revert_form_errors(request: HttpRequest, section: Section, form: RevertForm) -> HttpResponse:
    """The point-in-time page again, with the revert form's errors (and nothing changed)."""
    at = form.cleaned_data.get("at") if hasattr(form, "cleaned_data") else None
    context: dict[str, Any] = {
        "section": section,
        "form": PointInTimeForm(initial={"at": at}) if at else PointInTimeForm(),
        "may_revert": True,
        "revert_form": form,
    }
    if at:
        context.update(_as_of_context(section, at))
    return render(request, "audit/as_of.html", context, status=400)


class ObjectRevertForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = RevertForm.base_fields["reason"]


def may_revert_object(user: Any, section_id: int | None) -> bool:
    if section_id is None:
        return is_platform_admin(user)  # platform tables (themes): platform admins only
    section = Section.objects.filter(pk=section_id).first()
    return section is not None and can_edit_section(user, section)


@_signed_in_post
def object_revert(request: HttpRequest, app_label: str, model_name: str, pk: int) -> HttpResponse:
    """POST /audit/history/<app>/<model>/<pk>/revert/: make one object what it was in one of its versions."""
    hm = history_model_for(app_label, model_name)
    if hm is None:
        raise Http404("No history for this kind of object.")
    records = object_records(hm, pk)
    if not records or not may_read_section(request.user, record_section_id(hm, records[0])):
        raise Http404("No such object.")
    if not may_revert_object(request.user, record_section_id(hm, records[0])):
        raise PermissionDenied("Auditors read the history; only editors can revert it.")
    history_url = hm.history_url(pk)
    form = ObjectRevertForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not reverted: " + _form_errors(form))
        return HttpResponseRedirect(history_url)
    record = next((r for r in records if r.history_id == form.cleaned_data["version"]), None)
    if record is None:
        messages.error(request, "Not reverted: that version does not belong to this object.")
        return HttpResponseRedirect(history_url)
    try:
        summary = pointintime.revert_object(hm, record, actor=request.user, reason=form.cleaned_data["reason"])
    except pointintime.RevertError as exc:
        messages.error(request, f"Not reverted: {exc}")
        return HttpResponseRedirect(history_url)
    record_security_event(
        EventType.CONFIG_REVERTED,
        request=request,
        reason=form.cleaned_data["reason"],
        object=f"{hm.key}#{pk}",
        version=record.history_id,
    )
    messages.success(
        request, f"{object_label(hm, record)} reverted to its version of {display(record.history_date)}: {summary}."
    )
    return HttpResponseRedirect(history_url)


def _form_errors(form: forms.Form) -> str:
    return " ".join(f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items())
