"""Helpers for reading django-simple-history records of any configuration object."""

from __future__ import annotations

from typing import Any

from django.db import models


def latest_history(instance: models.Model) -> Any:
    """The newest history record of `instance` (who, when, why, and the values it was saved with)."""
    return instance.history.order_by("-history_date", "-history_id").first()  # type: ignore[attr-defined]
