"""Abstract model mixins shared by every app: timestamps and configuration history."""

from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    """Adds `created` and `updated` timestamps."""

    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
