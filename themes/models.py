"""Themes (brand colours, logos, an optional package on disk) and each user's display preferences."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_colour(value: str) -> None:
    if not HEX_COLOUR.match(value or ""):
        raise ValidationError(
            "“%(value)s” is not a colour; write it as #rrggbb, e.g. #0d6efd.", params={"value": value}
        )


def validate_package(value: str) -> None:
    from .packages import available_packages

    if value and value not in available_packages():
        raise ValidationError(
            "There is no theme package “%(value)s” in themes/packages/ (available: %(names)s).",
            params={"value": value, "names": ", ".join(sorted(available_packages())) or "none"},
        )


class ColourMode(models.TextChoices):
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"
    AUTO = "auto", "Auto (follow the system)"


class Theme(TimeStampedModel):
    """A named look: brand colours for light and dark mode, logos, and optionally a package on disk."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    primary = models.CharField(max_length=7, default="#0d6efd", validators=[validate_colour])
    secondary = models.CharField(max_length=7, default="#6c757d", validators=[validate_colour])
    primary_dark = models.CharField(
        max_length=7, default="#6ea8fe", validators=[validate_colour], help_text="Primary colour in dark mode."
    )
    secondary_dark = models.CharField(max_length=7, default="#a7acb1", validators=[validate_colour])
    logo_light = models.FileField(upload_to="themes/logos/", blank=True, help_text="Logo on light backgrounds.")
    logo_dark = models.FileField(upload_to="themes/logos/", blank=True, help_text="Logo on dark backgrounds.")
    package = models.CharField(
        max_length=50,
        blank=True,
        validators=[validate_package],
        help_text="A theme package in themes/packages/<name>/ with static/ (theme.css) and template overrides.",
    )
    is_default = models.BooleanField(default=False, help_text="The platform default (exactly one theme).")

    history = HistoricalRecords()

    class Meta:
        # "Exactly one default" is kept by themes.services.save_theme: MariaDB has no partial unique constraints.
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserPreference(models.Model):
    """A user's own display choices, kept on the server so they follow the user to every device."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    colour_mode = models.CharField(max_length=5, choices=ColourMode.choices, blank=True, help_text="Empty: default.")
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sidebar_collapsed = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
