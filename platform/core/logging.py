"""Logging: every line carries the request id, section and user of the request it was written for.

`logging_config()` builds the LOGGING dict the settings use (so a test configures exactly what production runs):
JSON lines (uat, prod) or readable plain lines (dev) on standard output, the security stream (`atrium.security`) as
JSON on its own handler, and optionally both sent to syslog as RFC 5424 messages with a JSON body.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import LazyObject, empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .context import current_request, current_request_id, current_section

LOG_FORMATS = ("json", "plain")
# Fields every line has, in this order, after `time`; absent values are "-" in plain lines and null in JSON.
CONTEXT_FIELDS = ("request_id", "section", "user_id")
SECURITY_LOGGER = "atrium.security"


def _user_id(request: Any) -> int | str | None:
    """The id of the request's user if it is already known, never loading it (a query here could recurse into the
    database logger). `request.user` is a lazy object until something reads it; DRF replaces it for token calls."""
    user = getattr(request, "__dict__", {}).get("user")
    if isinstance(user, LazyObject):
        user = getattr(user, "_wrapped", empty)  # peek, without loading it
        if user is empty:
            return None
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int | str) else None


class RequestContextFilter(logging.Filter):
    """Adds `request_id`, `section` (slug) and `user_id` to each record, unless the caller passed them in `extra`.

    They come from the ContextVars set by the middleware (core.middleware.RequestIdMiddleware, tenants'
    SectionMiddleware, monitoring.middleware.RequestMetricsMiddleware), or from the request that Django attaches to
    its own `django.request` records, which are written after the middleware has returned.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from django.http import HttpRequest

        attached = getattr(record, "request", None)
        request = attached if isinstance(attached, HttpRequest) else current_request()
        if not hasattr(record, "request_id"):
            request_id = current_request_id()
            record.request_id = request_id if request_id != "-" else getattr(request, "id", "-")
        if not hasattr(record, "section"):
            section = current_section() or getattr(request, "section", None)
            record.section = getattr(section, "slug", None) or "-"
        if not hasattr(record, "user_id"):
            user_id = _user_id(request) if request is not None else None
            record.user_id = user_id if user_id is not None else "-"
        return True


# The name the settings used before the filter also added the section and the user.
RequestIdFilter = RequestContextFilter


class JsonLineFormatter(JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, section, user_id, then any
    `extra` fields and the traceback. The request object Django attaches to its records is left out."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", *CONTEXT_FIELDS])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(**kwargs)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        for name in CONTEXT_FIELDS:
            if log_data.get(name) == "-":
                log_data[name] = None


class SyslogJsonFormatter(JsonLineFormatter):
    """The RFC 5424 header after the priority that SysLogHandler adds (VERSION TIMESTAMP HOSTNAME APP-NAME PROCID
    MSGID STRUCTURED-DATA), then the JSON line as the message, so rsyslog and aggregators parse both halves."""

    def __init__(self, app_name: str = "atrium", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_name = app_name
        self.hostname = socket.gethostname() or "-"

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        msgid = "".join(c for c in record.name if 33 <= ord(c) <= 126)[:32] or "-"
        header = f"1 {stamp.replace('+00:00', 'Z')} {self.hostname} {self.app_name} {os.getpid()} {msgid} - "
        return header + super().format(record)


class SyslogHandler(logging.handlers.SysLogHandler):
    """SysLogHandler configured by strings: `host:port` (UDP) or the path of a Unix socket (`/dev/log`), and a
    facility name (`local0`, `authpriv`…). No NUL after the message: RFC 5424 receivers would keep it."""

    append_nul = False

    def __init__(self, address: str, facility: str = "local0") -> None:
        super().__init__(address=parse_syslog_address(address), facility=facility_code(facility))


def parse_syslog_address(address: str) -> str | tuple[str, int]:
    """`/dev/log` stays a path; `host:port` or `[v6]:port` becomes a (host, port) pair; a bare host gets port 514."""
    if address.startswith("/"):
        return address
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":")
    elif address.count(":") == 1:
        host, port = address.split(":")
    else:  # a bare host name or IPv6 address
        host, port = address, ""
    if not host or (port and not port.isdigit()):
        raise ImproperlyConfigured(f"LOG_SYSLOG_ADDRESS must be host:port or a socket path, not {address!r}.")
    return (host, int(port) if port else logging.handlers.SYSLOG_UDP_PORT)


def facility_code(name: str) -> int:
    """The number of a syslog facility name (`local0`, `authpriv`…)."""
    try:
        return logging.handlers.SysLogHandler.facility_names[name.lower()]
    except KeyError:
        known = ", ".join(sorted(logging.handlers.SysLogHandler.facility_names))
        raise ImproperlyConfigured(f"Unknown syslog facility {name!r}; one of: {known}.") from None


def logging_config(
    *,
    level: str = "INFO",
    log_format: str = "plain",
    syslog_address: str = "",
    syslog_facility: str = "local0",
    security_syslog_facility: str = "authpriv",
    security_log_file: str = "",
) -> dict[str, Any]:
    """The LOGGING dict (see the module docstring); the settings call it with the LOG_* variables."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}.")
    if syslog_address:  # fail at start-up, not at the first line, when the address or a facility is wrong
        parse_syslog_address(syslog_address)
        facility_code(syslog_facility)
        facility_code(security_syslog_facility)
    context = ["request_context"]
    handlers: dict[str, Any] = {
        # Standard output: journald under systemd, then rsyslog or a shipper (deploy/logging/).
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": log_format,
            "filters": context,
        },
        # The security stream: always JSON, to its own file when SECURITY_LOG_FILE is set, else standard error.
        "security": {
            **(
                {"class": "logging.FileHandler", "filename": security_log_file}
                if security_log_file
                else {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
            ),
            "formatter": "json",
            "filters": context,
        },
    }
    app_handlers, security_handlers = ["console"], ["security"]
    if syslog_address:
        for name, facility, app_name in (
            ("syslog", syslog_facility, "atrium"),
            ("security_syslog", security_syslog_facility, "atrium-security"),
        ):
            handlers[name] = {
                "class": "core.logging.SyslogHandler",
                "address": syslog_address,
                "facility": facility,
                "formatter": f"syslog_{app_name}",
                "filters": context,
            }
        app_handlers.append("syslog")
        security_handlers.append("security_syslog")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
        "formatters": {
            "plain": {
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(section)s %(user_id)s] %(message)s"
            },
            "json": {"()": "core.logging.JsonLineFormatter"},
            "syslog_atrium": {"()": "core.logging.SyslogJsonFormatter", "app_name": "atrium"},
            "syslog_atrium-security": {"()": "core.logging.SyslogJsonFormatter", "app_name": "atrium-security"},
        },
        "handlers": handlers,
        "root": {"handlers": app_handlers, "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            "xmlschema": {"level": "WARNING"},
            SECURITY_LOGGER: {"handlers": security_handlers, "level": "INFO", "propagate": False},
        },
    }
