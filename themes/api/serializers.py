"""Serializers of themes and of the caller's display preferences. Logos are uploaded on the admin pages; the API
publishes their addresses only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from api.fields import FieldsMixin
from api.viewsets import reason_field
from themes.models import ColourMode, Theme, UserPreference

THEME_EXAMPLE = {
    "id": 2,
    "url": "https://portal.example.com/api/v1/themes/2/",
    "slug": "harbour",
    "name": "Harbour",
    "description": "Deep blue with a teal accent.",
    "primary": "#0b5394",
    "secondary": "#45818e",
    "primary_dark": "#6fa8dc",
    "secondary_dark": "#76a5af",
    "logo_light": None,
    "logo_dark": None,
    "package": "",
    "is_default": False,
    "created": "2026-01-12T09:30:00Z",
    "updated": "2026-03-02T14:05:11Z",
}


@extend_schema_serializer(
    examples=[
        OpenApiExample("A theme", value=THEME_EXAMPLE, response_only=True),
        OpenApiExample(
            "Add a brand theme",
            value={
                "slug": "harbour",
                "name": "Harbour",
                "primary": "#0b5394",
                "secondary": "#45818e",
                "primary_dark": "#6fa8dc",
                "secondary_dark": "#76a5af",
                "reason": "Brand refresh BR-7",
            },
            request_only=True,
        ),
    ]
)
class ThemeSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A named look: brand colours (#rrggbb) for light and dark mode, logos, and optionally a theme package on disk.
    Exactly one theme is the platform default: making one the default takes it from the others."""

    url = serializers.HyperlinkedIdentityField(view_name="api:theme-detail")
    reason = reason_field()

    class Meta:
        model = Theme
        fields = (
            "id",
            "url",
            "slug",
            "name",
            "description",
            "primary",
            "secondary",
            "primary_dark",
            "secondary_dark",
            "logo_light",
            "logo_dark",
            "package",
            "is_default",
            "created",
            "updated",
            "reason",
        )
        read_only_fields = ("logo_light", "logo_dark", "created", "updated")


# A section's default colour mode has the same values; the user's choice is labelled as the user reads it (the schema
# names each choice set once, by its values and labels).
COLOUR_MODES = [
    (ColourMode.LIGHT.value, "Always light"),
    (ColourMode.DARK.value, "Always dark"),
    (ColourMode.AUTO.value, "Follow my system"),
]


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Your preferences",
            value={"colour_mode": "dark", "theme": "harbour", "sidebar_collapsed": False, "updated": None},
            response_only=True,
        ),
        OpenApiExample("Switch to dark mode", value={"colour_mode": "dark"}, request_only=True),
    ]
)
class PreferenceSerializer(FieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """Your own display choices, kept on the server so they follow you to every device. An empty `colour_mode` and
    a null `theme` mean the section's (or the platform's) default."""

    colour_mode = serializers.ChoiceField(choices=COLOUR_MODES, required=False, allow_blank=True)
    theme = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Theme.objects.all(),
        allow_null=True,
        required=False,
        help_text="The theme's slug; null for the default.",
    )
    # null until the first change: reading /preferences/me/ before that answers the defaults without storing them
    updated = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = UserPreference
        fields = ("colour_mode", "theme", "sidebar_collapsed", "updated")
        read_only_fields = ("updated",)
