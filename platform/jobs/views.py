"""Job status pages: every job the user may see with its last and next run, and one job's run history.

Read-only (GET/HEAD), never cached, signed in; a job outside the user's reach is 404 (the pages never confirm that
another section's job exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tenants.permissions import edits_any_section

from . import status

RUNS_PER_PAGE = 50


def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return require_safe(never_cache(wrapper))


@_signed_in
def job_list(request: HttpRequest) -> HttpResponse:
    """GET /jobs/: the jobs the user may see, with their health at a glance."""
    if not (status.reads_everything(request.user) or edits_any_section(request.user)):
        raise Http404("No jobs to show.")
    specs = status.visible_jobs(request.user)
    rows = status.statuses(specs)
    return render(
        request,
        "jobs/list.html",
        {
            "rows": rows,
            "failing": sum(1 for row in rows if not row.healthy),
            "stale": sum(1 for row in rows if row.freshness is not None and row.freshness.stale),
        },
    )


@_signed_in
def job_detail(request: HttpRequest, name: str) -> HttpResponse:
    """GET /jobs/<name>/: one job's schedule, duration trend, checks and run history."""
    spec = status.visible_job(request.user, name)
    if spec is None:
        raise Http404("No such job.")
    [row] = status.statuses([spec])
    page = Paginator(status.runs_of(spec.name), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    trend = {
        "labels": [f"{r.started_at:%m-%d %H:%M}" for r in reversed(list(status.runs_of(spec.name)[:30]))],
        "datasets": [{"label": "Duration (s)", "data": list(row.durations)}],
    }
    return render(request, "jobs/detail.html", {"row": row, "spec": spec, "page": page, "trend": trend})
