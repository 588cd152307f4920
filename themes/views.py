"""The preferences page, the JSON endpoint the header toggles save through, and each theme's stylesheet."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .forms import PreferenceForm
from .models import ColourMode, Theme
from .resolution import user_preference
from .services import save_preference


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's preferences page: colour mode, theme, sidebar (and future settings)."""
    instance = user_preference(request.user)
    form = PreferenceForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        save_preference(request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        messages.success(request, "Your preferences are saved. They apply on every device you sign in on.")
        return HttpResponseRedirect(reverse("themes:preferences"))
    return render(request, "themes/preferences.html", {"form": form})


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JsonResponse(body, status=status, content_type="application/problem+json")


@require_POST
def save_display(request: HttpRequest) -> HttpResponse:
    """Save the header toggles' choice (JSON: colour_mode and/or sidebar_collapsed); CSRF-protected."""
    if not request.user.is_authenticated:
        return _problem(401, "Not signed in", "Sign in to keep preferences on the server.")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "Malformed JSON", "The body must be a JSON object.")
    if not isinstance(data, dict) or not data or set(data) - {"colour_mode", "sidebar_collapsed"}:
        return _problem(400, "Unknown fields", "Send colour_mode and/or sidebar_collapsed only.")
    changes = {}
    if "colour_mode" in data:
        if data["colour_mode"] not in ColourMode.values:
            return _problem(400, "Invalid colour mode", f"colour_mode must be one of {', '.join(ColourMode.values)}.")
        changes["colour_mode"] = data["colour_mode"]
    if "sidebar_collapsed" in data:
        if not isinstance(data["sidebar_collapsed"], bool):
            return _problem(400, "Invalid value", "sidebar_collapsed must be true or false.")
        changes["sidebar_collapsed"] = data["sidebar_collapsed"]
    save_preference(request.user, **changes)
    return HttpResponse(status=204)


@require_GET
def theme_css(request: HttpRequest, slug: str) -> HttpResponse:
    """A theme's brand colours as CSS custom properties for light and dark mode (a file: the CSP allows no inline)."""
    theme = get_object_or_404(Theme, slug=slug)
    css = render(request, "themes/theme.css", {"theme": theme}, content_type="text/css")
    css["Cache-Control"] = "public, max-age=300"
    return css
