"""The security-event browser for auditors: every recorded security event (sign-ins, failures, lockouts, denials,
exports, …) with filters, its DataTables JSON endpoint, its exports, and one person's timeline of security events
and configuration changes.

Auditors and platform admins only. Like the change-history pages, every page is read-only (GET/HEAD; anything
else is 405), never cached, and answers 404 (never 403) to any other signed-in user, so the pages do not even
confirm that they exist.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from core.datatables import InvalidParams, TableQuery, parse_table_query
from core.exports import XLSX_TYPE, Echo, spreadsheet_safe
from core.problems import problem
from core.security import EventType, record_security_event
from core.templatetags.components import Column
from tenants.permissions import reads_everything

from .queries import TimelineFilters, display, timeline, timeline_rows
from .views import PLATFORM_COLUMNS, _signed_in, export_formats

# Only `when` sorts: the table is indexed by time, and an auditor reads security events as a sequence.
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("when", "When", searchable=False),
    Column("user", "User", orderable=False),
    Column("type", "Type", orderable=False, searchable=False),
    Column("outcome", "Outcome", orderable=False, searchable=False),
    Column("method", "Method", orderable=False, searchable=False),
    Column("ip", "IP address", orderable=False, searchable=False),
    Column("section", "Section", orderable=False, searchable=False),
    Column("reason", "Reason", orderable=False),
    Column("path", "Path", orderable=False),
)
# Exports carry what the table leaves out for width: the user agent, the request id (to find the request in the
# application logs) and the event's details.
EXPORT_FIELDS = (*(column.name for column in EVENT_COLUMNS), "user_agent", "request_id", "detail")
EXPORT_BATCH = 500
OUTCOMES = {"success": True, "failure": False}
# Characters an XLSX cell cannot hold (openpyxl refuses them); a failed sign-in's username or user agent is typed
# by anyone, so it may contain them.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ---------------------------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------------------------
def _auditors_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else sign-in redirect, or 401 for JSON), read-only, never cached, and auditor or admin (else 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reads_everything(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return _signed_in(wrapper)


# ---------------------------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------------------------
def known_event_types() -> list[str]:
    """Every EventType constant, plus any other type already stored (an app may record its own)."""
    constants = {value for name, value in vars(EventType).items() if name.isupper() and isinstance(value, str)}
    stored = SecurityEvent.objects.order_by().values_list("event_type", flat=True).distinct()
    return sorted(constants | set(stored))


def _start_of(day: date) -> datetime:
    """Midnight at the start of `day` in the platform's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


class SecurityFilterForm(forms.Form):
    """The browser's filters; the same GET parameters drive the page, its JSON endpoint and its exports."""

    user = forms.CharField(label="User", max_length=150, required=False, help_text="Exact user name.")
    ip = forms.GenericIPAddressField(label="IP address", required=False)
    type = forms.ChoiceField(label="Type", required=False)
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any"), ("success", "Success"), ("failure", "Failure")]
    )
    section = forms.SlugField(label="Section", max_length=50, required=False, help_text="Section slug.")
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD"
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD, inclusive"
    )

    def __init__(self, data: QueryDict) -> None:
        super().__init__(data)
        choices = [(name, name.replace("_", " ").capitalize()) for name in known_event_types()]
        self.fields["type"].choices = [("", "Any"), *choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters_anything(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields)

    def events(self, search: str = "", *, newest_first: bool = True) -> QuerySet[SecurityEvent]:
        """The matching events, sorted by time (ties broken by id: two events in the same microsecond)."""
        queryset = _filtered(SecurityEvent.objects.all(), self.cleaned_data)
        if search:
            queryset = queryset.filter(
                Q(username__icontains=search) | Q(reason__icontains=search) | Q(path__icontains=search)
            )
        return queryset.order_by(*(("-created", "-id") if newest_first else ("created", "id")))

    def problem_response(self) -> JsonResponse:
        params = [{"name": name, "reason": " ".join(str(e) for e in errors)} for name, errors in self.errors.items()]
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
        return problem(400, f"Invalid filter. {detail}", invalid_params=params)


def _filtered(queryset: QuerySet[SecurityEvent], data: dict[str, Any]) -> QuerySet[SecurityEvent]:
    exact = {"username": data.get("user"), "ip_address": data.get("ip"), "event_type": data.get("type")}
    queryset = queryset.filter(**{field: value for field, value in exact.items() if value})
    if data.get("section"):
        queryset = queryset.filter(section_slug=data["section"])
    if data.get("outcome"):
        queryset = queryset.filter(success=OUTCOMES[data["outcome"]])
    if data.get("date_from"):
        queryset = queryset.filter(created__gte=_start_of(data["date_from"]))
    if data.get("date_to"):
        # Inclusive of the whole last day, in the platform's time zone.
        queryset = queryset.filter(created__lt=_start_of(data["date_to"] + timedelta(days=1)))
    return queryset


def _filter_query(request: HttpRequest) -> str:
    """The request's filter parameters only, to hand on to the JSON endpoint and the export links."""
    query = QueryDict(mutable=True)
    for name in SecurityFilterForm.base_fields:
        if request.GET.get(name):
            query[name] = request.GET[name]
    return query.urlencode()


# ---------------------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------------------
def event_row(event: SecurityEvent) -> dict[str, Any]:
    """One event as the auditors read it in the table."""
    return {
        "when": display(event.created),
        "user": event.username,
        "type": event.event_type,
        "outcome": "success" if event.success else "failure",
        "method": event.method,
        "ip": event.ip_address or "",
        "section": event.section_slug,
        "reason": event.reason,
        "path": event.path,
    }


def export_row(event: SecurityEvent) -> dict[str, Any]:
    return {**event_row(event), "user_agent": event.user_agent, "request_id": event.request_id, "detail": event.detail}


def _iterate(queryset: QuerySet[SecurityEvent]) -> Iterator[dict[str, Any]]:
    # In batches: an export of a year's events must not load them all at once.
    return (export_row(event) for event in queryset.iterator(chunk_size=EXPORT_BATCH))


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return spreadsheet_safe(text)


# ---------------------------------------------------------------------------------------------------------------
# The browser, its JSON and its exports
# ---------------------------------------------------------------------------------------------------------------
def _export_links(query: str) -> list[tuple[str, str]]:
    suffix = f"?{query}" if query else ""
    return [
        (fmt.upper(), reverse("audit:security-events-export", kwargs={"fmt": fmt}) + suffix) for fmt in export_formats()
    ]


def _user_url_template() -> str:
    # security.js puts each row's (URL-encoded) user name in place of the placeholder to link the "user" column.
    return reverse("audit:security-user", kwargs={"username": "USERNAME"})


@_auditors_only
def security_events(request: HttpRequest) -> HttpResponse:
    """GET /audit/security/: every security event, newest first, with filters."""
    form = SecurityFilterForm(request.GET)
    valid = form.is_valid()
    query = _filter_query(request)
    context = {
        "form": form,
        "valid": valid,
        "columns": EVENT_COLUMNS,
        "data_url": reverse("audit:security-events-data") + (f"?{query}" if query else ""),
        "exports": _export_links(query),
        "user_url": _user_url_template(),
        "reset_url": reverse("audit:security-events"),
    }
    return render(request, "audit/security_events.html", context, status=200 if valid else 400)


@_auditors_only
def security_events_data(request: HttpRequest) -> HttpResponse:
    """GET /audit/security/data/: the filtered events in DataTables' server-side protocol."""
    form = SecurityFilterForm(request.GET)
    if not form.is_valid():
        return form.problem_response()
    parsed = parse_table_query(request.GET, EVENT_COLUMNS)
    if isinstance(parsed, InvalidParams):
        return parsed.response()
    return JsonResponse(_answer(parsed, form))


def _answer(table: TableQuery, form: SecurityFilterForm) -> dict[str, Any]:
    """DataTables' response; the search, sort and slice are done by the database, not in memory."""
    search = table.search.strip()
    newest_first = not table.order or table.order[0][1]
    matching = form.events(search, newest_first=newest_first)
    total = SecurityEvent.objects.count()
    page = matching[table.start : table.start + table.length]
    return {
        "draw": table.draw,
        "recordsTotal": total,
        "recordsFiltered": matching.count() if search or form.filters_anything() else total,
        "data": [event_row(event) for event in page],
    }


@_auditors_only
def security_events_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET /audit/security/export/<fmt>/: every event the filters select, as CSV, XLSX or JSON."""
    if fmt not in export_formats():
        raise Http404("No such export format.")
    form = SecurityFilterForm(request.GET)
    if not form.is_valid():
        return form.problem_response()
    # Capped at the newest event now: the export's own event (recorded next) and any later one stay out of the
    # file, so the row count recorded below is the number of rows the file holds.
    ceiling = SecurityEvent.objects.aggregate(top=Max("pk"))["top"] or 0
    queryset = form.events().filter(pk__lte=ceiling)
    count = queryset.count()
    # Recorded before the first byte is sent: an export that the client abandons was still an export.
    record_security_event(
        EventType.EXPORT,
        request=request,
        reason="security events",
        rows=count,
        format=fmt,
        filters=_filter_query(request),
    )
    return _export_response(_iterate(queryset), fmt)


def _export_response(rows: Iterator[dict[str, Any]], fmt: str) -> HttpResponse:
    response: HttpResponse | StreamingHttpResponse
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        response = StreamingHttpResponse(_json_chunks(rows), content_type="application/json")
    else:
        response = HttpResponse(_xlsx(rows), content_type=XLSX_TYPE)  # openpyxl builds the workbook in memory
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="security-events-{stamp}.{fmt}"'
    return response  # type: ignore[return-value]


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for row in rows:
        yield writer.writerow([_cell(row[name]) for name in EXPORT_FIELDS])


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps({name: row[name] for name in EXPORT_FIELDS}, ensure_ascii=False)
    yield "]\n"


def _xlsx(rows: Iterator[dict[str, Any]]) -> bytes:
    import tablib

    dataset = tablib.Dataset(headers=list(EXPORT_FIELDS))
    for row in rows:
        dataset.append([_XLSX_ILLEGAL.sub("", _cell(row[name])) for name in EXPORT_FIELDS])
    return io.BytesIO(dataset.export("xlsx")).getvalue()


# ---------------------------------------------------------------------------------------------------------------
# One person's timeline
# ---------------------------------------------------------------------------------------------------------------
def _changes_summary(username: str) -> dict[str, Any]:
    """How many configuration changes the person made, and when the last one was."""
    changes = timeline(None, TimelineFilters(user=username))
    newest = list(timeline_rows(list(changes[:1])))
    return {"count": changes.count(), "last": newest[0]["when"] if newest else ""}


def _events_summary(username: str) -> dict[str, Any]:
    events = SecurityEvent.objects.filter(username=username)
    newest = events.order_by("-created", "-id").first()
    return {
        "count": events.count(),
        "failures": events.filter(success=False).count(),
        "last": display(newest.created) if newest else "",
    }


@_auditors_only
def security_user(request: HttpRequest, username: str) -> HttpResponse:
    """GET /audit/security/users/<username>/: one person's security events and configuration changes.

    The name need not belong to an account: a failed sign-in records the name that was tried, and an auditor
    follows it here too. Only a name with neither an account nor any event is 404.
    """
    person = get_user_model()._default_manager.filter(username=username).first()
    events = _events_summary(username)
    if person is None and not events["count"]:
        raise Http404("No such user.")
    query = urlencode({"user": username})
    context = {
        "username": username,
        "person": person,
        "events": events,
        "changes": _changes_summary(username),
        "event_columns": EVENT_COLUMNS,
        "change_columns": PLATFORM_COLUMNS,
        "events_url": f"{reverse('audit:security-events-data')}?{query}",
        "changes_url": f"{reverse('audit:changes-data')}?{query}",
        "all_events_url": f"{reverse('audit:security-events')}?{query}",
        "all_changes_url": f"{reverse('audit:changes')}?{query}",
        "exports": _export_links(query),
        "user_url": _user_url_template(),
    }
    return render(request, "audit/security_user.html", context)
