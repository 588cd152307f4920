"""The analytics pages: the dashboards (/analytics/ and /analytics/<section_slug>/), the user's privacy switch
(/analytics/privacy/) and the time-on-page beacon (POST /analytics/beacon/).

A dashboard the user may not read is a 404, never a 403: the pages do not confirm that a section exists.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.live import live_setting
from core.problems import problem
from tenants.lookups import section_by_slug
from tenants.models import Section

from . import buffer, queries, services
from .access import analytics_sections, reads_platform_analytics, reads_section_analytics
from .forms import DateRangeForm, OptOutForm
from .tracking import has_opted_out, is_recording, read_token

MS_PATTERN = re.compile(r"^\d{1,10}$")
TOP_LIMIT = 100
SHORT_LIMIT = 10
# Section slugs that /analytics/<slug>/ cannot reach, because a fixed page of this app has that name (see urls).
SHADOWED_SLUGS = frozenset({"beacon", "privacy"})


# Dashboards --------------------------------------------------------------------------------------------------------
@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Platform-wide figures for platform admins and auditors; for section editors and owners, their sections."""
    sections = list(analytics_sections(request.user).order_by("name"))
    chosen = request.GET.get("section", "")
    if chosen:
        return _to_section(request, chosen, sections)
    if reads_platform_analytics(request.user):
        return _dashboard(request, None, sections)
    if not sections:
        raise Http404("No analytics for you here.")
    form = DateRangeForm(request.GET)
    span = form.span() if form.is_valid() else queries.last_days(30, timezone.localdate())
    context = {
        "title": "Analytics",
        "form": form,
        "rows": queries.section_breakdown(sections, span),
        "span": span,
        "selector": sections,
    }
    return render(request, "analytics/index.html", context)


@login_required
@require_safe
def section_dashboard(request: HttpRequest, section_slug: str) -> HttpResponse:
    section = section_by_slug(section_slug)
    if section is None or not reads_section_analytics(request.user, section):
        raise Http404("No such section.")
    return _dashboard(request, section, list(analytics_sections(request.user).order_by("name")))


def _to_section(request: HttpRequest, slug: str, sections: list[Section]) -> HttpResponse:
    """The selector's answer: the chosen section's dashboard, keeping the date range."""
    dates = {key: request.GET[key] for key in ("date_from", "date_to") if request.GET.get(key)}
    query = f"?{urlencode(dates)}" if dates else ""
    if slug == "all" and reads_platform_analytics(request.user):
        return HttpResponseRedirect(reverse("analytics:index") + query)
    section = next((section for section in sections if section.slug == slug), None)
    if section is None:
        raise Http404("No such section.")
    if slug in SHADOWED_SLUGS:
        return _dashboard(request, section, sections)
    return HttpResponseRedirect(reverse("analytics:section", kwargs={"section_slug": slug}) + query)


def _dashboard(request: HttpRequest, section: Section | None, sections: list[Section]) -> HttpResponse:
    form = DateRangeForm(request.GET)
    context: dict[str, Any] = {
        "title": f"Analytics · {section.name}" if section else "Analytics · all sections",
        "section": section,
        "form": form,
        "selector": sections,
        "platform_reader": reads_platform_analytics(request.user),
    }
    if form.is_valid():
        context.update(_figures(section, sections, form.span()))
    return render(request, "analytics/dashboard.html", context)


def _figures(section: Section | None, sections: list[Section], span: queries.DateRange) -> dict[str, Any]:
    series = queries.daily_series(section, span)
    pages = queries.top_pages(section, span, limit=TOP_LIMIT)
    return {
        "span": span,
        "headline": queries.headline(section, span),
        "traffic_chart": queries.traffic_chart(series),
        "time_chart": queries.time_chart(series),
        "page_columns": _page_columns(show_section=section is None),
        # Most viewed first: the views column comes after the section column on the platform-wide dashboard.
        "page_order": f'[[{2 if section is None else 1},"desc"]]',
        "page_rows": [_page_cells(row) for row in pages],
        "entries": queries.top_pages(section, span, order="entries", limit=SHORT_LIMIT),
        "exits": queries.top_pages(section, span, order="exits", limit=SHORT_LIMIT),
        "path_columns": [("from_path", "From"), ("to_path", "Next page"), ("count", "Times")],
        "path_rows": [vars(row) for row in queries.common_paths(section, span)],
        "dead_links": queries.dead_links([section] if section else sections, span),
        "breakdown": queries.section_breakdown(sections, span) if section is None else [],
    }


def _page_columns(*, show_section: bool) -> list[tuple[str, str]]:
    columns = [("path", "Page"), ("views", "Views"), ("median_s", "Median time on page (s)")]
    columns += [("entries", "Visits started here"), ("exits", "Visits ended here")]
    return [("section", "Section"), *columns] if show_section else columns


def _page_cells(row: queries.PageRow) -> dict[str, Any]:
    median = round(row.median_ms / 1000) if row.median_ms is not None else ""
    return {**vars(row), "median_s": median}


# Privacy -----------------------------------------------------------------------------------------------------------
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    """What is recorded about the user's visits, and (when the live setting allows it) the switch to stop it."""
    allowed = bool(live_setting("ANALYTICS_ALLOW_OPT_OUT"))
    if request.method == "POST":
        if not allowed:
            messages.error(request, "Opting out is switched off on this platform.")
            return HttpResponseRedirect(reverse("analytics:privacy"))
        form = OptOutForm(request.POST)
        if form.is_valid():
            opted_out = form.cleaned_data["opted_out"]
            services.set_opt_out(request.user, opted_out=opted_out)
            messages.success(
                request,
                "The pages you visit are no longer recorded." if opted_out else "The pages you visit are recorded.",
            )
        return HttpResponseRedirect(reverse("analytics:privacy"))
    opted_out = services.is_opted_out(request.user)
    context = {
        "title": "Usage analytics and your privacy",
        "allowed": allowed,
        "enabled": is_recording(),
        "opted_out": opted_out,
        "form": OptOutForm(initial={"opted_out": opted_out}),
        "pseudonymise_days": live_setting("ANALYTICS_PSEUDONYMISE_DAYS"),
        "retention_days": live_setting("ANALYTICS_RETENTION_DAYS"),
    }
    return render(request, "analytics/privacy.html", context)


# Beacon ------------------------------------------------------------------------------------------------------------
@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    """Time on page from the page's beacon: `token` (signed view and user ids) and `ms` (visible time).

    CSRF applies as to any form post (the token travels in the body: sendBeacon cannot set headers). Nothing is
    stored unless every check passes; the answer says which check failed, as a problem document.
    """
    if not is_recording():
        return problem(404, "Usage analytics are switched off.")
    if not request.user.is_authenticated:
        return problem(403, "Sign in to report time on page.")
    try:
        claim = read_token(request.POST.get("token", ""))
    except signing.BadSignature:
        return problem(400, "The token is not a valid page token (tampered with, expired, or missing).")
    if claim.user_id != request.user.pk:
        return problem(403, "This page view is not yours.")
    ms = _milliseconds(request.POST.get("ms", ""))
    if ms is None:
        return problem(
            400,
            f"`ms` must be a whole number of milliseconds from 0 to {settings.ANALYTICS_MAX_DURATION_MS}.",
            invalid_params=[{"name": "ms", "reason": "not a whole number in range"}],
        )
    if not has_opted_out(request.user.pk):
        buffer.record_time({"view_id": claim.view_id, "user_id": request.user.pk, "ms": ms, "received": timezone.now()})
    return HttpResponse(status=204)


def _milliseconds(raw: str) -> int | None:
    """A sane time on page: digits only (no sign, no fraction), at most ANALYTICS_MAX_DURATION_MS."""
    if not MS_PATTERN.match(raw.strip()):
        return None
    ms = int(raw)
    return ms if ms <= settings.ANALYTICS_MAX_DURATION_MS else None
