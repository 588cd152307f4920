"""Every API error is an RFC 9457 problem-details document (`application/problem+json`).

The shape is the one Atrium's HTML-side JSON endpoints already use (`core.views_showcase.problem`): `type`
("about:blank"), `title` (the status's phrase), `status` and `detail`, plus `instance` (the path that was called),
`code` (a stable machine-readable word such as `not_authenticated` or `throttled`), `request_id` (to find the
call in the logs) and, for validation errors, `invalid_params`: one `{name, reason, code}` per problem, with
nested fields named by dotted path (`owners.0`).

`problem_exception_handler` is DRF's EXCEPTION_HANDLER. Errors that are not API exceptions (bugs) are left to
Django, whose handlers in core.views answer with the same shape under /api/, so they are still logged and mailed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.problems import PROBLEM_CONTENT_TYPE
from core.security import EventType, record_security_event

# Headers of DRF's own error responses that the problem response must keep (401 challenge, 429 back-off).
_KEPT_HEADERS = ("WWW-Authenticate", "Retry-After")


class InvalidQueryParameter(exceptions.APIException):
    """A query parameter the endpoint cannot act on (an unknown `fields` or `ordering` name, a bad page size)."""

    status_code = 400
    default_code = "invalid_parameter"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Invalid query parameter {name}: {reason}")
        self.invalid_params = [{"name": name, "reason": reason, "code": self.default_code}]


def problem_body(status: int, detail: str, *, instance: str = "", **extensions: Any) -> dict[str, Any]:
    """The problem document: the RFC 9457 members first, then Atrium's extensions (those with a value)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    body.update({name: value for name, value in extensions.items() if value not in (None, "", [])})
    return body


def problem_response(
    status: int, detail: str, *, request: Any = None, headers: Mapping[str, str] | None = None, **extensions: Any
) -> Response:
    """A DRF Response carrying a problem document, for views that answer an error themselves."""
    body = problem_body(
        status,
        detail,
        instance=getattr(request, "path", "") if request is not None else "",
        request_id=getattr(request, "id", "") or getattr(getattr(request, "_request", None), "id", ""),
        **extensions,
    )
    return Response(body, status=status, headers=dict(headers or {}), content_type=PROBLEM_CONTENT_TYPE)


def invalid_params(detail: Any, name: str = "") -> list[dict[str, str]]:
    """Flatten a DRF ValidationError's detail (nested dicts and lists) into `{name, reason, code}` entries."""
    if isinstance(detail, Mapping):
        return [
            entry
            for key, value in detail.items()
            for entry in invalid_params(value, f"{name}.{key}" if name else str(key))
        ]
    if isinstance(detail, Sequence) and not isinstance(detail, str):
        entries: list[dict[str, str]] = []
        for index, value in enumerate(detail):
            # A list of messages belongs to the field itself; a list of objects is numbered (items.0.name).
            nested = isinstance(value, Mapping | list)
            entries.extend(invalid_params(value, f"{name}.{index}" if nested and name else name))
        return entries
    return [{"name": name or "non_field_errors", "reason": str(detail), "code": getattr(detail, "code", "invalid")}]


def _code(exc: exceptions.APIException) -> str:
    return str(getattr(exc.detail, "code", None) or exc.default_code)


def _detail(exc: exceptions.APIException, params: list[dict[str, str]]) -> str:
    if isinstance(exc, exceptions.ValidationError):
        reasons = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
        return f"The request is not valid. {reasons}"
    return str(exc.detail)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (which maps Http404 and PermissionDenied too, and sets WWW-Authenticate and Retry-After),
    with its body turned into a problem document."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: Django's 500 handler answers (and logs) it
    if isinstance(exc, exceptions.APIException):
        api_exc = exc
    elif response.status_code == 404:
        api_exc = exceptions.NotFound()
    else:
        api_exc = exceptions.PermissionDenied()
    request = context.get("request")
    params = getattr(api_exc, "invalid_params", None) or (
        invalid_params(api_exc.detail) if isinstance(api_exc, exceptions.ValidationError) else []
    )
    if response.status_code == 403:
        _record_denial(request, str(api_exc.detail))
    return problem_response(
        response.status_code,
        _detail(api_exc, params),
        request=request,
        headers={name: response[name] for name in _KEPT_HEADERS if response.has_header(name)},
        code=_code(api_exc),
        invalid_params=params,
    )


def _record_denial(request: Any, reason: str) -> None:
    """A refused API call is a permission denial like a refused page: the security stream hears of it."""
    django_request = getattr(request, "_request", request)
    if django_request is None:
        return
    token = getattr(request, "auth", None)
    record_security_event(
        EventType.PERMISSION_DENIED,
        request=django_request,
        success=False,
        method="token" if token is not None else "session",
        reason=reason[:255],
        token=getattr(token, "prefix", ""),
    )
