"""Themes: bundled themes meet WCAG AA, defaults layer platform → section → user, preferences follow the user."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tenants.models import Section
from themes import services
from themes.models import Theme, UserPreference

pytestmark = pytest.mark.django_db

# Bootstrap 5.3's body colours, which the bundled themes keep (high contrast: pure black and white).
BODY = {"light": ("#212529", "#ffffff"), "dark": ("#dee2e6", "#212529")}
HIGH_CONTRAST_BODY = {"light": ("#000000", "#ffffff"), "dark": ("#ffffff", "#000000")}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_known_values():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


@pytest.mark.parametrize("slug", ["default", "high-contrast"])
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_bundled_themes_meet_wcag_aa_for_text_and_links(slug, mode):
    theme = Theme.objects.get(slug=slug)
    text, background = (HIGH_CONTRAST_BODY if slug == "high-contrast" else BODY)[mode]
    link = theme.primary if mode == "light" else theme.primary_dark
    assert contrast(text, background) >= 4.5
    assert contrast(link, background) >= 4.5, f"{slug} {mode}: links {link} on {background}"


def test_exactly_one_bundled_default_theme():
    assert list(Theme.objects.filter(is_default=True).values_list("slug", flat=True)) == ["default"]


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg", "rgb(0,0,0)", ""])
def test_a_colour_that_is_not_a_colour_is_refused(colour):
    theme = Theme(slug="bad", name="Bad", primary=colour)
    with pytest.raises(ValidationError, match=r"not a colour|cannot be blank"):
        services.save_theme(theme, actor=None, reason="t")
    assert not Theme.objects.filter(slug="bad").exists()


def test_an_unknown_theme_package_is_refused():
    with pytest.raises(ValidationError, match="no theme package"):
        services.save_theme(Theme(slug="x", name="X", package="does-not-exist"), actor=None, reason="t")


def test_making_a_theme_default_takes_it_from_the_others():
    theme = Theme.objects.get(slug="high-contrast")
    theme.is_default = True
    services.save_theme(theme, actor=None, reason="switch")
    assert list(Theme.objects.filter(is_default=True).values_list("slug", flat=True)) == ["high-contrast"]


def test_theme_css_carries_the_brand_colours_for_both_modes(client):
    response = client.get("/-/theme/default.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    css = response.content.decode()
    assert "[data-bs-theme=light]" in css and "#0b5ed7" in css and "#6ea8fe" in css
    assert client.get("/-/theme/nope.css").status_code == 404


def test_layers_platform_then_section_then_user(demo, sign_in):
    frank = sign_in("frank")
    page = frank.get("/finance/").content.decode()
    assert 'data-atrium-mode="auto"' in page and "/-/theme/default.css" in page
    finance = Section.objects.get(slug="finance")
    finance.default_theme = Theme.objects.get(slug="high-contrast")
    finance.default_colour_mode = "dark"
    from tenants.services import save_section

    save_section(finance, actor=None, reason="dark wall display")
    page = frank.get("/finance/").content.decode()
    assert 'data-atrium-mode="dark"' in page and "/-/theme/high-contrast.css" in page
    assert "themes/high-contrast/theme.css" in page and 'data-theme-package="high-contrast"' in page
    assert (
        frank.post("/preferences/display/", {"colour_mode": "light"}, content_type="application/json").status_code
        == 204
    )
    assert 'data-atrium-mode="light"' in frank.get("/finance/").content.decode()
    finance.lock_colour_mode = True
    save_section(finance, actor=None, reason="lock")
    page = frank.get("/finance/").content.decode()
    assert 'data-atrium-mode="dark"' in page and "data-atrium-mode-locked" in page


def test_the_choice_follows_the_user_to_another_device(demo, sign_in):
    laptop, phone = sign_in("frank"), sign_in("frank")
    laptop.post("/preferences/display/", json.dumps({"colour_mode": "dark"}), content_type="application/json")
    assert 'data-atrium-mode="dark"' in phone.get("/").content.decode()
    laptop.post("/preferences/display/", json.dumps({"sidebar_collapsed": True}), content_type="application/json")
    assert 'data-atrium-sidebar="collapsed"' in phone.get("/finance/").content.decode()


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", "{}", '{"colour_mode": "purple"}', '{"sidebar_collapsed": "yes"}', '{"is_superuser": true}'],
)
def test_bad_preference_input_is_a_400_problem(demo, sign_in, body):
    response = sign_in("frank").post("/preferences/display/", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] and problem["detail"]
    assert not UserPreference.objects.filter(colour_mode="purple").exists()


def test_saving_preferences_needs_sign_in_and_csrf(demo):
    assert Client().post("/preferences/display/", "{}", content_type="application/json").status_code == 401
    strict = Client(enforce_csrf_checks=True)
    strict.post("/accounts/login/", {"username": "frank", "password": "atrium-demo"})
    # Without the X-CSRFToken header the middleware refuses (the page's JS sends it from <meta name=csrf-token>).
    assert (
        strict.post("/preferences/display/", '{"colour_mode": "dark"}', content_type="application/json").status_code
        == 403
    )


def test_preferences_page_saves_the_form(demo, sign_in):
    frank = sign_in("frank")
    assert frank.get("/preferences/").status_code == 200
    hc = Theme.objects.get(slug="high-contrast")
    response = frank.post("/preferences/", {"colour_mode": "dark", "theme": hc.pk, "sidebar_collapsed": "on"})
    assert response.status_code == 302
    preference = UserPreference.objects.get(user__username="frank")
    assert (preference.colour_mode, preference.theme, preference.sidebar_collapsed) == ("dark", hc, True)
    bad = frank.post("/preferences/", {"colour_mode": "neon", "theme": 99999})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
