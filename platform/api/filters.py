"""Filtering and ordering defaults for every list: django-filter's query parameters, and `?ordering=`.

An unknown ordering name is refused with a 400 problem (DRF's filter would silently ignore it, and a client would
page through rows in an order it did not ask for). Cursor pagination positions its cursor on the first ordering
field, so orderings name plain, non-null columns only (no `__` lookups).
"""

from __future__ import annotations

from typing import Any

from rest_framework.filters import OrderingFilter

from .errors import InvalidQueryParameter


class ApiOrderingFilter(OrderingFilter):
    """`?ordering=name,-created`: the view's `ordering_fields`; its `ordering` when none is given."""

    ordering_description = "Comma-separated fields to order by, `-` first for descending (e.g. `-created`)."

    def remove_invalid_fields(self, queryset: Any, fields: list[str], view: Any, request: Any) -> list[str]:
        valid = [name for name, _label in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in fields if term.lstrip("-") not in valid]
        if unknown:
            raise InvalidQueryParameter(
                self.ordering_param, f"cannot order by {', '.join(unknown)}; choose from {', '.join(valid)}"
            )
        return fields
