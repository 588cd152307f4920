"""Per-request context held in ContextVars: the current section, the request id and the request itself.

ContextVars (not thread-locals) so the values are right under threads and asyncio alike, and so that code far
from the request (managers, logging filters, services) can read them without having the request passed in.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from tenants.models import Section

_current_section: ContextVar[Section | None] = ContextVar("atrium_current_section", default=None)
_request_id: ContextVar[str] = ContextVar("atrium_request_id", default="-")


def current_section() -> Section | None:
    """The section the current request (or `using_section` block) is scoped to, if any."""
    return _current_section.get()


def set_current_section(section: Section | None) -> Token[Any]:
    """Scope what follows to `section`; pass the token to `reset_current_section` afterwards."""
    return _current_section.set(section)


def reset_current_section(token: Token[Any]) -> None:
    """Undo `set_current_section`."""
    _current_section.reset(token)


class using_section:  # noqa: N801 - used like a function: `with using_section(finance): ...`
    """Context manager that scopes section-scoped managers to one section (jobs, commands, tests)."""

    def __init__(self, section: Section | None) -> None:
        self.section = section
        self._token: Token[Any] | None = None

    def __enter__(self) -> Section | None:
        self._token = set_current_section(self.section)
        return self.section

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        reset_current_section(self._token)


def current_request_id() -> str:
    """The id of the request being served ('-' outside a request)."""
    return _request_id.get()


def set_request_id(value: str) -> Token[str]:
    """Record the id of the request being served."""
    return _request_id.set(value)


def reset_request_id(token: Token[str]) -> None:
    """Undo `set_request_id`."""
    _request_id.reset(token)


# The request being served, for the logging filter (core.logging), which reads the user from it without ever loading
# it: a filter that ran a query could recurse into the database logger. Set by monitoring.middleware.
_current_request: ContextVar[HttpRequest | None] = ContextVar("atrium_current_request", default=None)


def current_request() -> HttpRequest | None:
    """The request being served (None outside a request, and before the request-context middleware)."""
    return _current_request.get()


def set_current_request(request: HttpRequest | None) -> Token[Any]:
    """Record the request being served; pass the token to `reset_current_request` afterwards."""
    return _current_request.set(request)


def reset_current_request(token: Token[Any]) -> None:
    """Undo `set_current_request`."""
    _current_request.reset(token)
