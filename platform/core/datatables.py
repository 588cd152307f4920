"""DataTables' server-side protocol (https://datatables.net/manual/server-side): parsing and validating one request.

One parser serves every server-side table: the showcase, the change history and security events (in-memory or
queryset answers) and report tables. Each endpoint passes its own columns; the client's column list must match
them (a mismatch means the page and the endpoint disagree about the table, which is a bug worth hearing about).
Per-column search is accepted only where the endpoint can answer it (`column_search=True`, report tables);
elsewhere it is refused rather than silently ignored, like regular-expression search everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import JsonResponse

from core.problems import problem
from core.templatetags.components import Column

MAX_PAGE_LENGTH = 100
MAX_SEARCH_LENGTH = 200
_WHOLE_NUMBER = re.compile(r"^\d{1,9}$")  # nine digits: no number a table needs, and no huge-int parsing
_ORDER_KEY = re.compile(r"^order\[(\d{1,3})\]\[(column|dir|name)\]$")
_COLUMN_KEY = re.compile(r"^columns\[(\d{1,3})\]\[(data|name|searchable|orderable)\]$")
_COLUMN_SEARCH_KEY = re.compile(r"^columns\[(\d{1,3})\]\[search\]\[(value|regex)\]$")


@dataclass(frozen=True)
class TableQuery:
    """A valid DataTables request: what to search, how to sort, and which slice to answer."""

    draw: int
    start: int
    length: int
    search: str
    order: tuple[tuple[Column, bool], ...]  # (column, descending), most significant first
    column_search: Mapping[str, str] = field(default_factory=dict)  # column name → text, when allowed


@dataclass
class InvalidParams:
    """The request's problems, collected so the caller hears about all of them at once."""

    problems: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.problems.append({"name": name, "reason": reason})

    def response(self) -> JsonResponse:
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in self.problems)
        return problem(400, f"Invalid table request. {detail}.", invalid_params=self.problems)


def parse_table_query(
    query: Mapping[str, Any],
    columns: Sequence[Column],
    *,
    column_search: bool = False,
    default_length: int = 10,
    paged: bool = True,
) -> TableQuery | InvalidParams:
    """Validate a DataTables server-side request against the endpoint's own columns.

    Every parameter the endpoint acts on is checked. Parameters DataTables sends that the endpoint does not act on
    (the `_` cache-buster, `search[fixed]`) are ignored. With `paged` false (exports: every matching row), `draw`
    is optional and `length` is not limited.
    """
    errors = InvalidParams()
    draw = _whole_number(query, "draw", None if paged else 0, errors)
    start = _whole_number(query, "start", 0, errors)
    length = _whole_number(query, "length", default_length, errors)
    if paged and length is not None and not 1 <= length <= MAX_PAGE_LENGTH:
        errors.add("length", f"must be between 1 and {MAX_PAGE_LENGTH}")
    search = _text(query, "search[value]", errors)
    if query.get("search[regex]", "false") not in ("true", "false"):
        errors.add("search[regex]", "must be true or false")
    elif query.get("search[regex]") == "true":
        errors.add("search[regex]", "regular-expression search is not supported")
    searches = _check_columns(query, columns, column_search, errors)
    order = _parse_order(query, columns, errors)
    if errors.problems or draw is None or start is None or length is None:
        return errors
    return TableQuery(draw=draw, start=start, length=length, search=search, order=tuple(order), column_search=searches)


def _whole_number(query: Mapping[str, Any], name: str, default: int | None, errors: InvalidParams) -> int | None:
    raw = query.get(name)
    if raw is None or (raw == "" and default is not None):
        if default is None:
            errors.add(name, "is required")
        return default
    if not isinstance(raw, str) or not _WHOLE_NUMBER.match(raw):
        errors.add(name, "must be a whole number, 0 or more")
        return None
    return int(raw)


def _text(query: Mapping[str, Any], name: str, errors: InvalidParams) -> str:
    value = query.get(name, "") or ""
    if not isinstance(value, str) or len(value) > MAX_SEARCH_LENGTH:
        errors.add(name, f"must be at most {MAX_SEARCH_LENGTH} characters")
        return ""
    return value


def _check_columns(
    query: Mapping[str, Any], columns: Sequence[Column], column_search: bool, errors: InvalidParams
) -> dict[str, str]:
    """The client's columns[i][…] must describe the server's columns; per-column search only where allowed."""
    searches: dict[str, str] = {}
    for key in query:
        if match := _COLUMN_KEY.match(key):
            index, part = int(match[1]), match[2]
            if index >= len(columns):
                errors.add(key, f"there are only {len(columns)} columns")
            elif part in ("data", "name") and query.get(key, "") not in ("", columns[index].name):
                errors.add(key, f"column {index} is {columns[index].name!r}")
        elif (match := _COLUMN_SEARCH_KEY.match(key)) and match[2] == "value" and query.get(key, ""):
            _add_column_search(query, key, int(match[1]), columns, column_search, searches, errors)
    return searches


def _add_column_search(
    query: Mapping[str, Any],
    key: str,
    index: int,
    columns: Sequence[Column],
    allowed: bool,
    searches: dict[str, str],
    errors: InvalidParams,
) -> None:
    if not allowed:
        errors.add(key, "searching one column is not supported; use search[value]")
    elif index >= len(columns):
        errors.add(key, f"there are only {len(columns)} columns")
    elif not columns[index].searchable:
        errors.add(key, f"column {columns[index].name!r} cannot be searched")
    elif value := _text(query, key, errors):
        searches[columns[index].name] = value


def _parse_order(
    query: Mapping[str, Any], columns: Sequence[Column], errors: InvalidParams
) -> list[tuple[Column, bool]]:
    """order[i][column|dir|name], i counting up from 0: the sort, most significant column first."""
    specs: dict[int, dict[str, str]] = {}
    for key in query:
        if match := _ORDER_KEY.match(key):
            specs.setdefault(int(match[1]), {})[match[2]] = query.get(key, "") or ""
    if sorted(specs) != list(range(len(specs))):
        errors.add("order", "indexes must count up from 0")
    order: list[tuple[Column, bool]] = []
    for index in sorted(specs):
        spec, prefix = specs[index], f"order[{index}]"
        raw_column = spec.get("column", "")
        if not _WHOLE_NUMBER.match(raw_column) or int(raw_column) >= len(columns):
            errors.add(f"{prefix}[column]", f"must be a column number from 0 to {len(columns) - 1}")
            continue
        column = columns[int(raw_column)]
        if not column.orderable:
            errors.add(f"{prefix}[column]", f"column {column.name!r} cannot be sorted")
        direction = spec.get("dir", "asc")
        if direction not in ("asc", "desc"):
            errors.add(f"{prefix}[dir]", "must be asc or desc")
        if spec.get("name", "") not in ("", column.name):
            errors.add(f"{prefix}[name]", f"column {raw_column} is {column.name!r}")
        order.append((column, direction == "desc"))
    return order
