"""The OpenAPI 3 schema (drf-spectacular): problem-details error responses on every operation, the `fields`
parameter where it applies, and the bearer-token and session security schemes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from core.problems import PROBLEM_CONTENT_TYPE

from .fields import FIELDS_PARAM, FieldsMixin


class InvalidParamSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(help_text="The field or query parameter, nested fields by dotted path (owners.0).")
    reason = serializers.CharField(help_text="What is wrong with it.")
    code = serializers.CharField(help_text="A stable word for the kind of problem (required, invalid, …).")


class ProblemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An error, as RFC 9457 problem details (media type application/problem+json)."""

    type = serializers.CharField(help_text="Always about:blank: the status says what kind of problem it is.")
    title = serializers.CharField(help_text="The HTTP status's phrase, e.g. Forbidden.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for a person; what to change.")
    instance = serializers.CharField(help_text="The path that was called.")
    code = serializers.CharField(
        required=False, help_text="A stable word for programs: not_authenticated, permission_denied, throttled, …"
    )
    request_id = serializers.CharField(required=False, help_text="Quote it when you report a problem.")
    invalid_params = InvalidParamSerializer(
        many=True, required=False, help_text="Validation errors, one per field or parameter."
    )


_ERRORS = {
    "400": "The request or a query parameter is not valid (see invalid_params).",
    "401": "No credentials, or a token that is unknown, expired, revoked or used from an address it does not allow.",
    "403": "Not allowed: a read token writing, an auditor changing, or a section or object you may not change.",
    "404": "No such object, or one you may not read (on a list: a cursor that is not one of its own links).",
    "429": "Too many calls: wait for the seconds in Retry-After.",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema with Atrium's error responses and the `fields` parameter."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and isinstance(self._get_serializer(), FieldsMixin):
            parameters.append(
                OpenApiParameter(
                    FIELDS_PARAM,
                    str,
                    description="Comma-separated names of the fields to answer with, e.g. `id,name`; an unknown "
                    "name is a 400 problem.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:  # type: ignore[override]
        # A private hook of drf-spectacular (pinned in requirements/base.txt): the public one would replace the
        # success responses that the serializers already describe.
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code, response in responses.items():
            if str(code)[:1] in "45" and isinstance(response, dict):
                # An error a view declares itself (409, 422, …) is answered by api.errors, as problem details.
                content = response.get("content") or {}
                if content and PROBLEM_CONTENT_TYPE not in content:
                    response["content"] = {PROBLEM_CONTENT_TYPE: next(iter(content.values()))}
        for code in self._error_codes():
            responses.setdefault(
                code,
                self._get_response_for_code(
                    OpenApiResponse(ProblemSerializer, description=_ERRORS[code]),
                    code,
                    media_types=[PROBLEM_CONTENT_TYPE],
                    direction=direction,
                ),
            )
        return dict(responses)

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        if self.method != "GET" or self._is_list_view() or isinstance(self._get_serializer(), FieldsMixin):
            codes.append("400")
        if "{" in self.path or self._is_paginated_list():
            codes.append("404")  # a paginated list answers a made-up cursor with 404, like DRF's CursorPagination
        return sorted(codes)

    def _is_paginated_list(self) -> bool:
        return bool(self._is_list_view() and getattr(self.view, "pagination_class", None) is not None)


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (atr_…), created at /accounts/tokens/ or POST /api/v1/tokens/.",
        }


class SessionCookieScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.ApiSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        from django.conf import settings

        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser session of a signed-in user; writes need the X-CSRFToken header.",
        }


def describe_the_obvious(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: path ids and success responses that drf-spectacular leaves without a description."""
    from http import HTTPStatus

    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and not parameter.get("description"):
                    parameter["description"] = "The object's id."
            for code, response in operation.get("responses", {}).items():
                if not response.get("description") and code.isdigit():
                    response["description"] = HTTPStatus(int(code)).phrase
    return result
