"""Themes a section can choose as its default."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel


class Theme(TimeStampedModel):
    """A named look for the portal; sections pick one as their default."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
