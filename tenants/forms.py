"""Forms for onboarding a section from the admin."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group

from .models import Section
from .slugs import validate_section_slug


class OnboardSectionForm(forms.Form):
    """Everything the onboarding service needs; the slug is checked here so errors show on the field."""

    slug = forms.CharField(max_length=50, validators=[validate_section_slug], help_text="The address: /<slug>/")
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    editors_group = forms.CharField(max_length=150, help_text="Directory group whose members edit the section.")
    viewers_group = forms.CharField(
        max_length=150, required=False, help_text="Directory group whose members may visit it (empty: everyone)."
    )
    reason = forms.CharField(max_length=100, required=False, label="Reason for change")

    def clean(self) -> dict:
        data = super().clean() or {}
        slug, name = data.get("slug"), data.get("name")
        existing = Section.objects.filter(slug=slug).first() if slug else None
        if existing and existing.name != name:
            self.add_error("slug", f"This slug is already taken by the section “{existing.name}”.")
        return data

    @staticmethod
    def known_groups() -> list[str]:
        return list(Group.objects.order_by("name").values_list("name", flat=True))
