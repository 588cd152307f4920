"""The dashboards' date range (GET parameters `date_from` and `date_to`) and the opt-out switch."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from .queries import DateRange, last_days

DEFAULT_DAYS = 30
PRESETS = (7, 30, 90)
# A year and a day: a whole year, and the aggregate reads stay bounded.
MAX_DAYS = 366


class DateRangeForm(forms.Form):
    """From and to, both inclusive; empty means the last DEFAULT_DAYS days. Bad dates are form errors."""

    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD"
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="YYYY-MM-DD, inclusive"
    )

    def __init__(self, data: QueryDict | dict[str, Any] | None = None, *, today: date | None = None) -> None:
        self.today = today or timezone.localdate()
        # Empty dates become the default range in the data itself, so the inputs show the days shown.
        filled = data.copy() if data is not None else {}
        if not filled.get("date_to"):
            filled["date_to"] = self.today.isoformat()
        if not filled.get("date_from"):
            try:
                end = date.fromisoformat(str(filled["date_to"]))
            except ValueError:
                end = self.today  # the bad end date gets its own error
            filled["date_from"] = (end - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        super().__init__(filled)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if self.errors:
            return cleaned
        end = end or self.today
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("date_to", "The end date is before the start date.")
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("date_from", f"Choose at most {MAX_DAYS} days.")
        elif start > self.today:
            self.add_error("date_from", "The start date is in the future.")
        cleaned["date_from"], cleaned["date_to"] = start, end
        return cleaned

    def span(self) -> DateRange:
        """The chosen range (the form must be valid)."""
        return DateRange(self.cleaned_data["date_from"], self.cleaned_data["date_to"])

    def presets(self) -> list[tuple[str, str, bool]]:
        """(label, query string, is current) for the 7/30/90-day links."""
        current = self.span() if self.is_valid() else None
        found = []
        for days in PRESETS:
            span = last_days(days, self.today)
            found.append((f"Last {days} days", f"?date_from={span.start}&date_to={span.end}", span == current))
        return found


class OptOutForm(forms.Form):
    opted_out = forms.BooleanField(
        required=False, label="Do not record the pages I visit", help_text="Takes effect within a minute."
    )
