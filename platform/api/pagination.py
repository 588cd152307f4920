"""Cursor pagination for every list: stable pages while rows are added, and no COUNT(*) over large tables.

`?limit=` sets the page size (1 to API_MAX_PAGE_SIZE, default API_PAGE_SIZE); `next` and `previous` are complete
URLs to follow as given. The order is the list's `ordering` (or `?ordering=`), whose first field positions the cursor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.pagination import CursorPagination

from .errors import InvalidQueryParameter


class ApiCursorPagination(CursorPagination):
    cursor_query_param = "cursor"
    page_size_query_param = "limit"
    ordering = "-pk"
    page_size_query_description = "How many results per page (default 50, at most API_MAX_PAGE_SIZE: 500)."
    cursor_query_description = "Where the page starts; take it from the `next` or `previous` link."
    invalid_cursor_message = "The cursor is not valid: follow the `next` and `previous` links as they are given."

    def get_page_size(self, request: Any) -> int:
        self.max_page_size = int(settings.API_MAX_PAGE_SIZE)
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return int(settings.API_PAGE_SIZE)
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise InvalidQueryParameter(
                self.page_size_query_param, f"must be a whole number from 1 to {self.max_page_size}"
            )
        return int(raw)
