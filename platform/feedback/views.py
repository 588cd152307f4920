"""The feedback pages: the triage list for section editors (/feedback/), the reporter's own reports
(/feedback/mine/), one report with its screenshot, comments and history, and the triage and comment forms.

A report the user may not read is a 404 on every page, never a 403: the pages do not confirm it exists.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST, require_safe

from tenants.permissions import edits_any_section, reads_everything

from . import services
from .models import BugReport, Severity, Status

PAGE_SIZE = 25


class TriageFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Open (not resolved)"), ("all", "All"), *Status.choices], required=False)
    severity = forms.ChoiceField(choices=[("", "Any"), *Severity.choices], required=False)
    section = forms.CharField(required=False, label="Section (slug)")


class TriageForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")
    reason = forms.CharField(max_length=200, required=False, label="Reason (kept in the history)")

    def __init__(self, *args: Any, report: BugReport, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = services.possible_assignees(report)  # type: ignore[attr-defined]
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username  # type: ignore[attr-defined]


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, label="Comment")


def _readable_report(request: HttpRequest, pk: int) -> BugReport:
    report = services.visible_reports(request.user).filter(pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    return report


@login_required
@require_safe
def triage(request: HttpRequest) -> HttpResponse:
    """The reports of the sections the user edits (every report for platform admins and auditors)."""
    if not (reads_everything(request.user) or edits_any_section(request.user)):
        raise Http404("Only section editors triage problem reports.")
    form = TriageFilterForm(request.GET or None)
    reports = services.triage_reports(request.user)
    chosen = form.cleaned_data if form.is_valid() else {}
    if chosen.get("status") == "":
        reports = reports.exclude(status=Status.RESOLVED)
    elif chosen.get("status") and chosen["status"] != "all":
        reports = reports.filter(status=chosen["status"])
    if not chosen:
        reports = reports.exclude(status=Status.RESOLVED)
    if chosen.get("severity"):
        reports = reports.filter(severity=chosen["severity"])
    if chosen.get("section"):
        reports = reports.filter(section__slug=chosen["section"])
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/triage.html", {"form": form, "page": page, "reports": page.object_list})


@login_required
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    """The reports the user sent, newest first, with their status."""
    reports = services.all_reports().filter(reporter=request.user.pk)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "feedback/mine.html", {"page": page, "reports": page.object_list})


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _readable_report(request, pk)
    triager = services.can_triage(request.user, report)
    history = report.history.select_related("history_user").order_by("-history_date")[:50]  # type: ignore[attr-defined]
    context = {
        "report": report,
        "title": f"Problem #{report.pk}",
        "triager": triager,
        "triage_form": TriageForm(report=report, initial={"status": report.status, "assignee": report.assignee_id})
        if triager
        else None,
        "comment_form": CommentForm(),
        "comments": report.comments.select_related("author"),
        "history": history,
    }
    return render(request, "feedback/detail.html", context)


@login_required
@require_safe
def screenshot(request: HttpRequest, pk: int) -> FileResponse:
    """The screenshot, to those who may read the report (never from a public media URL)."""
    report = _readable_report(request, pk)
    if not report.screenshot:
        raise Http404("This report has no screenshot.")
    content_type = "image/jpeg" if report.screenshot.name.endswith(".jpg") else "image/png"
    response = FileResponse(report.screenshot.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=0"
    return response


@login_required
@require_POST
def update(request: HttpRequest, pk: int) -> HttpResponse:
    report = _readable_report(request, pk)
    if not services.can_triage(request.user, report):
        raise Http404("No such report.")
    form = TriageForm(request.POST, report=report)
    if form.is_valid():
        try:
            services.update_report(
                report,
                actor=request.user,
                reason=form.cleaned_data["reason"] or "Triaged on the feedback page",
                status=form.cleaned_data["status"],
                assignee=form.cleaned_data["assignee"],
                change_assignee=True,
            )
            messages.success(request, f"Report #{report.pk} updated.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(
            request, "The change was not valid: " + "; ".join(str(e) for errs in form.errors.values() for e in errs)
        )
    return HttpResponseRedirect(report.get_absolute_url())


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    report = _readable_report(request, pk)
    if (
        reads_everything(request.user)
        and not services.can_triage(request.user, report)
        and (report.reporter_id != request.user.pk)
    ):
        raise Http404("No such report.")  # auditors read, they do not take part
    form = CommentForm(request.POST)
    if form.is_valid():
        services.add_comment(report, form.cleaned_data["body"], actor=request.user)
        messages.success(request, "Comment added.")
    else:
        messages.error(request, "A comment cannot be empty.")
    return HttpResponseRedirect(report.get_absolute_url())
