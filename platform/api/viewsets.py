"""Base classes for the apps' viewsets (`<app>/api/views.py`), so each names only its queryset, serializer and
filters (the NetBox way) and inherits the rules: integer ids in URLs, filters and ordering on every list, the
permission classes, and the change reason every write records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets

from .permissions import ApiAccess, PlatformReaders

REASON_FIELD = "reason"


class ApiViewSetMixin:
    """What every Atrium viewset shares (the REST_FRAMEWORK setting holds the rest: auth, throttles, pagination)."""

    # Ids are whole numbers: /api/v1/sections/abc/ is a 404 from the URL resolver, never a query.
    lookup_value_converter = "int"
    permission_classes = [ApiAccess]
    # Subclasses list these explicitly: ordering by a column nobody meant to expose is not allowed.
    ordering_fields: list[str] = ["id"]
    ordering: Any = ("-id",)


class ReadOnlyApiViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """List and retrieve only."""


class PlatformReadOnlyViewSet(ReadOnlyApiViewSet):
    """Platform-wide audit data: platform admins and auditors, and no section-restricted token."""

    permission_classes = [ApiAccess, PlatformReaders]
    platform_wide = True


class CreateListRetrieveDestroyViewSet(
    ApiViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Rows that are created and deleted, never changed in place (roles, tokens)."""


def change_reason(request: Any, default: str) -> str:
    """The reason a write records in history: the body's `reason`, else `default`."""
    data = getattr(request, "data", None)
    reason = data.get(REASON_FIELD) if isinstance(data, Mapping) else None
    return str(reason).strip()[:200] if reason and str(reason).strip() else default


def reason_field() -> serializers.CharField:
    """The write-only `reason` of every changing serializer: why, for the history and the auditors."""
    return serializers.CharField(
        write_only=True,
        required=False,
        max_length=200,
        help_text="Why the change is made; recorded in the object's history (default: “Changed through the API”).",
    )


def as_api_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's Django ValidationError as DRF's, so it becomes a 400 problem with per-field `invalid_params`."""
    return serializers.ValidationError(serializers.as_serializer_error(exc))
