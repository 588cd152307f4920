"""The preferences form."""

from __future__ import annotations

from django import forms

from .models import ColourMode, Theme, UserPreference


class PreferenceForm(forms.ModelForm):
    colour_mode = forms.ChoiceField(
        choices=[("", "Section default"), *ColourMode.choices], required=False, label="Colour mode"
    )
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.order_by("name"), required=False, empty_label="Section default", label="Theme"
    )

    class Meta:
        model = UserPreference
        fields = ("colour_mode", "theme", "sidebar_collapsed")
        labels = {"sidebar_collapsed": "Start with the section menu collapsed"}
