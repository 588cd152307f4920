"""The usage page (/api/usage/): recent API calls with filters, and calls per endpoint over the last day.

For platform admins and auditors; anyone else gets a 404. Being under /api/, its errors are problem documents
like the API's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property, wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from core.problems import problem
from tenants.permissions import reads_everything

from .models import ApiUsage
from .usage import endpoint_summary, status_filter

CALLS_PER_PAGE = 50
# Counting every row of a busy audit table on each page view is slow; the page pages through the newest ones.
COUNT_CAP = 10_000
SUMMARY_HOURS = 24


class CappedPaginator(Paginator):
    """A paginator that counts at most `COUNT_CAP` rows (SELECT COUNT(*) over a LIMITed subquery)."""

    @cached_property
    def count(self) -> int:
        return int(self.object_list[:COUNT_CAP].count())  # type: ignore[index, attr-defined]


class UsageFilterForm(forms.Form):
    """The page's filters (GET parameters, so a filtered view can be bookmarked and shared)."""

    user = forms.CharField(label="User", max_length=150, required=False, help_text="Exact user name.")
    status = forms.RegexField(
        label="Status", regex=r"^[1-5](\d\d|xx)$", required=False, help_text="A status (404) or a class (4xx)."
    )
    path = forms.CharField(label="Path", max_length=200, required=False, help_text="Part of the path or pattern.")
    method = forms.ChoiceField(
        label="Method",
        required=False,
        choices=[("", "Any"), *((m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))],
    )

    def calls(self) -> QuerySet[ApiUsage]:
        data = self.cleaned_data
        calls = ApiUsage.objects.all()
        if data.get("user"):
            calls = calls.filter(username=data["user"])
        if data.get("status"):
            calls = status_filter(calls, data["status"])
        if data.get("path"):
            calls = calls.filter(Q(route__icontains=data["path"]) | Q(path__icontains=data["path"]))
        if data.get("method"):
            calls = calls.filter(method=data["method"])
        return calls.order_by("-at", "-id")


def _platform_readers_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET/HEAD only (405 problem otherwise), never cached, signed in, and admin or auditor (else 404)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = problem(405, f"{request.method} is not allowed here; use GET.", instance=request.path)
            response["Allow"] = "GET, HEAD"
            return response
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not reads_everything(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


@_platform_readers_page
def usage_page(request: HttpRequest) -> HttpResponse:
    """GET /api/usage/: the newest API calls matching the filters, and the busiest endpoints of the last day."""
    form = UsageFilterForm(request.GET)
    valid = form.is_valid()
    page = CappedPaginator(form.calls() if valid else ApiUsage.objects.none(), CALLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "valid": valid,
        "page": page,
        "capped": page.paginator.count >= COUNT_CAP,
        "count_cap": COUNT_CAP,
        "summary": endpoint_summary(timezone.now() - timedelta(hours=SUMMARY_HOURS)),
        "summary_hours": SUMMARY_HOURS,
    }
    return render(request, "api/usage.html", context, status=200 if valid else 400)
