"""Logging helpers: every record carries the id of the request it was written for."""

import logging

from .context import current_request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record so formatters can print it on every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
