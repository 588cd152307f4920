"""The ingestion endpoint's JSON parser: its own body limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE.

DRF's JSONParser reads `request.body`, which Django caps at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default, right
for every other call). A push of tens of thousands of records is bigger by design, so POST /sources/{id}/records/
reads its body itself, up to API_INGEST_MAX_BODY_BYTES (default 64 MiB), and the rest of the site keeps the small
limit. A larger body is refused (413) before it is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

DEFAULT_INGEST_MAX_BODY_BYTES = 64 * 1024 * 1024


def ingest_max_body_bytes() -> int:
    return int(getattr(settings, "API_INGEST_MAX_BODY_BYTES", DEFAULT_INGEST_MAX_BODY_BYTES))


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "body_too_large"


class IngestJSONParser(BaseParser):
    """application/json, read from the stream up to the ingestion body limit."""

    media_type = "application/json"

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = ingest_max_body_bytes()
        request = (parser_context or {}).get("request")
        declared = getattr(request, "META", {}).get("CONTENT_LENGTH") or "0"
        too_large = BodyTooLarge(
            f"The body is larger than {limit} bytes (API_INGEST_MAX_BODY_BYTES): push the records in several calls."
        )
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise too_large
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
