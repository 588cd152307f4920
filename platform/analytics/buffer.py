"""The per-process buffer that keeps recording off the request path: page views and beacon times are appended
here as plain values and written with one bulk INSERT per table when the buffer is due.

Due means ANALYTICS_BUFFER_SIZE rows, or the oldest row older than ANALYTICS_FLUSH_SECONDS. The check runs when a
response has been sent (Django's `request_finished`, after the server wrote the body), so even the request that
fills the buffer does not make its user wait; the process also flushes at exit (atexit).

What can be lost, and why that is acceptable: a process killed with SIGKILL (or one that crashes) loses what its
buffer held, at most one buffer (ANALYTICS_BUFFER_SIZE views, or ANALYTICS_FLUSH_SECONDS of traffic) per web
worker. These are usage statistics, not records anyone relies on; a few hundred missing views out of millions do
not change a dashboard, and buying them back would cost a write on every page. A failed flush (database down, a
user or section deleted meanwhile) is logged and its rows dropped; it is never raised to a user.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from functools import partial
from typing import Any

from django.conf import settings
from django.db import models

from core.services import run_in_transaction

logger = logging.getLogger("atrium.analytics")

# Galera's rule for bulk writes: at most 1,000 rows per transaction, whatever the buffer size is set to.
MAX_BATCH = 1000


class RowBuffer:
    """Rows (dicts of field values) waiting for one model's bulk INSERT; safe to share between threads."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self._rows: list[dict[str, Any]] = []
        self._first_at = 0.0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            if not self._rows:
                self._first_at = time.monotonic()
            self._rows.append(row)

    def is_due(self, size: int, seconds: float) -> bool:
        rows = len(self._rows)
        return rows >= size or (rows > 0 and time.monotonic() - self._first_at >= seconds)

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows


views = RowBuffer("analytics.PageView")
times = RowBuffer("analytics.PageTime")


def buffer_size() -> int:
    return max(1, int(settings.ANALYTICS_BUFFER_SIZE))


def flush_seconds() -> float:
    return float(settings.ANALYTICS_FLUSH_SECONDS)


def record_view(row: dict[str, Any]) -> None:
    """Queue one page view (PageView field values); written at the next flush."""
    views.add(row)


def record_time(row: dict[str, Any]) -> None:
    """Queue one beacon's time on page (PageTime field values); written at the next flush."""
    times.add(row)


def is_due() -> bool:
    size, seconds = buffer_size(), flush_seconds()
    return views.is_due(size, seconds) or times.is_due(size, seconds)


def flush_if_due(**_signal: Any) -> None:
    """`request_finished` receiver: write the buffers when they are due. Costs two comparisons otherwise."""
    if is_due():
        flush()


def flush() -> int:
    """Write everything buffered in this process now (one INSERT per table and ≤1,000 rows); rows written."""
    from .models import PageTime, PageView

    return _write(PageView, views.take()) + _write(PageTime, times.take())


def discard() -> None:
    """Drop what is buffered without writing it (tests, and a process that must not write)."""
    views.take()
    times.take()


def _write(model: type[models.Model], rows: list[dict[str, Any]]) -> int:
    written = 0
    for start in range(0, len(rows), MAX_BATCH):
        batch = rows[start : start + MAX_BATCH]
        insert = partial(model._default_manager.bulk_create, [model(**row) for row in batch])
        try:
            # Its own transaction (a savepoint inside a caller's), retried once on a Galera conflict; a failure
            # loses this batch only.
            run_in_transaction(insert, retries=2)
        except Exception:
            logger.exception("Could not write %d buffered %s rows; they are dropped.", len(batch), model.__name__)
            continue
        written += len(batch)
    return written


def _flush_at_exit() -> None:
    try:
        if len(views) or len(times):
            flush()
    except Exception:  # the interpreter is going away: log, never raise from atexit
        logger.exception("Could not write the analytics buffer at exit.")


atexit.register(_flush_at_exit)
