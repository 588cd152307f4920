"""Every operation of the generated schema is documented: a summary or description, and an example for every
request body. The schema is generated from the code at run time, so an endpoint added by any app is held to it."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    # As `manage.py spectacular` generates it: every endpoint, whoever may call it.
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _has_example(media: dict[str, Any]) -> bool:
    if media.get("example") is not None or media.get("examples"):
        return True
    body_schema = media.get("schema", {})
    return body_schema.get("example") is not None or bool(body_schema.get("examples"))


def test_the_schema_has_operations(schema):
    assert len(operations(schema)) >= 10


def test_every_operation_has_a_summary_or_a_description(schema):
    missing = [where for where, op in operations(schema) if not (op.get("summary") or op.get("description"))]
    assert not missing, (
        "Operations without a summary or description (add a docstring to the view or "
        f"@extend_schema(summary=…, description=…)): {missing}"
    )


def test_every_request_body_has_an_example(schema):
    # drf-spectacular also lists the form encodings DRF parses; one example (usually the JSON one) is enough.
    missing = [
        f"{where} ({', '.join(body['content'])})"
        for where, op in operations(schema)
        if (body := op.get("requestBody")) and not any(_has_example(media) for media in body["content"].values())
    ]
    assert not missing, (
        "Request bodies without an example (add @extend_schema(examples=[OpenApiExample(…, request_only=True)]), "
        f"with media_type= for a body that is not JSON): {missing}"
    )
