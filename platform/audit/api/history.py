"""The configuration history through the API: the audit timeline's query (`audit.queries`), paged by a keyset cursor.

The timeline is one UNION over every history table, and a UNION cannot be filtered afterwards, so DRF's cursor
pagination cannot be used as it is. The cursor here is the last row's position in the timeline's order (time, then
table, then history id); each page filters every branch of the UNION to the rows after it, so pages stay stable
while changes are recorded and no OFFSET or COUNT(*) runs over the history tables.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

from api.errors import InvalidQueryParameter
from audit.queries import HistoryModel, TimelineFilters, model_rows, scope_models, timeline_rows
from tenants.models import Section

CURSOR_PARAM = "cursor"
LIMIT_PARAM = "limit"
ORDERING = ("-a_date", "-a_model", "-a_id")
INVALID_CURSOR = "The cursor is not valid: follow the `next` link as it is given."

Position = tuple[datetime, str, int]


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position[0].isoformat(), position[1], position[2]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Position:
    """The position a `next` link carries; a cursor that is not one is a 404, as DRF's cursors are."""
    try:
        padded = value + "=" * (-len(value) % 4)
        date, model, history_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = parse_datetime(date)
        if when is None or not isinstance(model, str) or not isinstance(history_id, int):
            raise ValueError(value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise NotFound(INVALID_CURSOR) from None
    return when, model, history_id


def page_size(request: Request) -> int:
    raw = request.query_params.get(LIMIT_PARAM, "")
    largest = int(settings.API_MAX_PAGE_SIZE)
    if raw == "":
        return int(settings.API_PAGE_SIZE)
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise InvalidQueryParameter(LIMIT_PARAM, f"must be a whole number from 1 to {largest}")
    return int(raw)


def _after(hm: HistoryModel, position: Position) -> Q:
    """The rows of `hm`'s table that come after `position` in the timeline's order."""
    when, model, history_id = position
    same_time = Q(history_date=when)
    if hm.key < model:
        later = Q(history_date__lt=when) | same_time
    elif hm.key == model:
        later = Q(history_date__lt=when) | (same_time & Q(history_id__lt=history_id))
    else:
        later = Q(history_date__lt=when)
    return later


def history_rows(
    section: Section | None, filters: TimelineFilters, *, object_id: int | None, position: Position | None
) -> QuerySet[Any]:
    """The timeline's rows (newest first) matching the filters, after `position`, as one UNION query."""
    branches = []
    for hm in scope_models(section):
        if filters.model is not None and hm.key != filters.model.key:
            continue
        rows = model_rows(hm, section, filters)
        if object_id is not None:
            rows = rows.filter(**{hm.pk_column: object_id})
        if position is not None:
            rows = rows.filter(_after(hm, position))
        branches.append(rows)
    if not branches:
        return scope_models(None)[0].records().none().values()
    first, *rest = branches
    union = first.union(*rest, all=True) if rest else first
    return union.order_by(*ORDERING)


def history_page(
    request: Request, section: Section | None, filters: TimelineFilters, object_id: int | None
) -> dict[str, Any]:
    """One page of the history, as the API answers it: `next`, `previous` (always null) and `results`."""
    size = page_size(request)
    cursor = request.query_params.get(CURSOR_PARAM)
    position = decode_cursor(cursor) if cursor else None
    rows = list(history_rows(section, filters, object_id=object_id, position=position)[: size + 1])
    more, rows = len(rows) > size, rows[:size]
    results = []
    for raw, shown in zip(rows, timeline_rows(rows), strict=True):
        results.append(
            {
                "history_id": raw["a_id"],
                "model": raw["a_model"],
                "model_name": shown["model"],
                "object_id": raw["a_object"],
                "object": shown["object"],
                "action": shown["action"],
                "date": raw["a_date"],
                "user": shown["user"],
                "section": shown["section"] if raw["a_section"] is not None else None,
                "reason": shown["reason"],
                "history_url": shown["history"],
            }
        )
    next_url = None
    if more and rows:
        last = rows[-1]
        next_url = replace_query_param(
            request.build_absolute_uri(), CURSOR_PARAM, encode_cursor((last["a_date"], last["a_model"], last["a_id"]))
        )
    return {"next": next_url, "previous": None, "results": results}
