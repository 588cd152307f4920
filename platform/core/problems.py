"""Problem details (RFC 9457): how Atrium's JSON endpoints, pages' AJAX endpoints and the API say what was wrong."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, detail: str, **extensions: Any) -> JsonResponse:
    """A problem-details response. `type` is "about:blank", so `title` is the status's standard phrase (RFC 9457
    §4.2.1); `detail` tells the caller what to change, and extensions (here `invalid_params`) say where."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JsonResponse({**body, **extensions}, status=status, content_type=PROBLEM_CONTENT_TYPE)
