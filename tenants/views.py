"""Pages: the platform home (sections you may visit), a section's home page, and a section's content pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render

from accounts.mfa import has_mfa, step_up_url
from core.cache import versioned_get
from core.security import EventType, record_security_event
from core.views import gone

from .models import Page, Section
from .permissions import can_edit_section, can_visit_section, reads_everything, visitable_sections

SectionView = Callable[..., HttpResponse]


def section_view(view: SectionView) -> Callable[..., HttpResponse]:
    """Resolve and guard the request's section, then call `view(request, section, ...)`.

    Unknown section: 404. Archived: 410, except for platform admins and auditors, who may still read it.
    Not signed in: the sign-in page. Signed in but not a viewer: 403.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, section_slug: str | None = None, **kwargs: Any) -> HttpResponse:
        section: Section | None = getattr(request, "section", None)
        if section is None or (section_slug is not None and section.slug != section_slug):
            raise Http404("No such section.")
        if section.is_archived and not reads_everything(request.user):
            return gone(request, f"“{section.name}” has been archived.")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not can_visit_section(request.user, section):
            record_security_event(EventType.SECTION_DENIED, request=request, success=False, reason="not a viewer")
            raise PermissionDenied(f"Not a viewer of section {section.slug}.")
        if section.require_mfa and not has_mfa(request):
            record_security_event(EventType.MFA_REQUIRED, request=request, reason="section requires MFA")
            return HttpResponseRedirect(step_up_url(request, request.get_full_path()))
        return view(request, section, *args, **kwargs)

    return wrapper


def home(request: HttpRequest) -> HttpResponse:
    """The platform's front page: the sections the user may visit."""
    sections = visitable_sections(request.user)
    return render(request, "tenants/home.html", {"sections": sections})


def _section_context(request: HttpRequest, section: Section) -> dict[str, Any]:
    return {"section": section, "can_edit": can_edit_section(request.user, section)}


def home_page(section: Section) -> Page | None:
    """The section's published home page, cached per configuration version (a change bumps the version)."""
    key = f"tenants:home:{section.pk}:v{section.config_version}"
    page = versioned_get(key, lambda: Page.objects.filter(section=section, slug="home", published=True).first() or "-")
    return page if isinstance(page, Page) else None


@section_view
def section_home(request: HttpRequest, section: Section) -> HttpResponse:
    """A section's home page: its `home` page's text, or a welcome if it has none yet."""
    page = home_page(section)
    return render(request, "tenants/section_home.html", {**_section_context(request, section), "page": page})


@section_view
def page_detail(request: HttpRequest, section: Section, page_id: int) -> HttpResponse:
    """One content page of the section; another section's page id is a 404, never that page."""
    page = get_object_or_404(Page.objects.filter(section=section, published=True), pk=page_id)
    return render(request, "tenants/page.html", {**_section_context(request, section), "page": page})
