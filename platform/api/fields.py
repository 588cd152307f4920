"""`?fields=a,b`: a serializer mixin that answers only the fields asked for.

Unknown names are refused (400 problem naming them) before the view does any work, so a write with a mistyped
`fields` is not carried out. On reads the unwanted fields are dropped before serialization (no work is spent on
them); on writes all fields are validated and only the answer is trimmed.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from .errors import InvalidQueryParameter

FIELDS_PARAM = "fields"


def requested_fields(request: Any) -> list[str] | None:
    """The names in `?fields=`, in order, or None when the parameter is absent or empty."""
    raw = getattr(request, "query_params", {}).get(FIELDS_PARAM, "") if request is not None else ""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    return names or None


class FieldsMixin(serializers.Serializer):  # type: ignore[type-arg]
    """Mix into a top-level serializer (before ModelSerializer) to honour `?fields=`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._only: list[str] | None = None
        request = self.context.get("request")
        # Nested serializers share the context; only the serializer the view made answers to `?fields=`.
        if request is None or self.parent is not None or kwargs.get("many"):
            return
        wanted = requested_fields(request)
        if wanted is None:
            return
        readable = [name for name, field in self.fields.items() if not field.write_only]
        unknown = [name for name in wanted if name not in readable]
        if unknown:
            raise InvalidQueryParameter(
                FIELDS_PARAM, f"unknown field(s) {', '.join(unknown)}; choose from {', '.join(readable)}"
            )
        self._only = wanted
        if request.method in SAFE_METHODS:
            for name in list(self.fields):
                if name not in wanted:
                    self.fields.pop(name)

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if self._only is None:
            return data
        return {name: data[name] for name in self._only if name in data}
