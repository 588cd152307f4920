"""The security alerts page: the alerts raised by the alert rules, and acknowledging them.

Platform admins and auditors read the page; only platform admins acknowledge (auditors get 403: they read
everything and change nothing). To anyone else every alerts URL answers 404, so the page's existence is not
confirmed; anonymous visitors are sent to sign in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from tenants.permissions import is_platform_admin, reads_everything

from .alerts import MAX_NOTE_LENGTH, acknowledge
from .models import Alert, AlertRule

ALERTS_PER_PAGE = 25
# How many of an alert's triggering events the page links to; the rest are counted.
EVENT_LINKS = 10


def _alert_readers_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in (else the sign-in page), and a platform admin or auditor (else 404); never cached."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not reads_everything(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


class AlertFilterForm(forms.Form):
    """The list's filters: open, acknowledged or all alerts, optionally of one rule."""

    STATUS_CHOICES = (("open", "Open"), ("acknowledged", "Acknowledged"), ("all", "All"))

    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="Status")
    rule = forms.ModelChoiceField(
        queryset=AlertRule.objects.order_by("name"), required=False, label="Rule", empty_label="Every rule"
    )

    def filter(self, alerts: QuerySet[Alert]) -> QuerySet[Alert]:
        status = self.cleaned_data.get("status") or "open"
        if status == "open":
            alerts = alerts.filter(acknowledged_at__isnull=True)
        elif status == "acknowledged":
            alerts = alerts.filter(acknowledged_at__isnull=False)
        rule = self.cleaned_data.get("rule")
        return alerts.filter(rule=rule) if rule is not None else alerts


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you found or did (optional); kept with the alert.",
    )


@_alert_readers_only
@require_safe
def alerts(request: HttpRequest) -> HttpResponse:
    """GET /audit/alerts/: alerts newest first, filtered by status (open by default) and rule, paginated."""
    form = AlertFilterForm(request.GET)
    can_acknowledge = is_platform_admin(request.user)
    valid = form.is_valid()
    queryset = Alert.objects.select_related("rule", "acknowledged_by").order_by("-raised_at", "-id")
    page = Paginator(form.filter(queryset) if valid else queryset.none(), ALERTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "valid": valid,
        "page": page,
        "rows": [_row(alert, can_acknowledge) for alert in page.object_list],
        "can_acknowledge": can_acknowledge,
        "reset_url": reverse("audit:alerts"),
    }
    return render(request, "audit/alerts.html", context, status=200 if valid else 400)


def _row(alert: Alert, can_acknowledge: bool) -> dict[str, Any]:
    """What the page shows of one alert, with links to the events that raised it (in the admin's event list)."""
    ids = list(alert.event_ids or [])
    return {
        "alert": alert,
        # Its own ids per alert: the page holds one acknowledge form for each open alert.
        "acknowledge_form": AcknowledgeForm(auto_id=f"alert-{alert.pk}-%s")
        if can_acknowledge and alert.is_open
        else None,
        "event_links": [
            (event_id, reverse("admin:accounts_securityevent_change", args=[event_id]))
            for event_id in ids[:EVENT_LINKS]
        ],
        "more_events": max(0, len(ids) - EVENT_LINKS),
    }


@_alert_readers_only
@require_POST
def acknowledge_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    """POST /audit/alerts/<id>/acknowledge/: a platform admin marks the alert as dealt with, with a note."""
    if not is_platform_admin(request.user):
        raise PermissionDenied("Auditors can read alerts but not acknowledge them.")
    alert = get_object_or_404(Alert.objects.select_related("rule"), pk=alert_id)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return HttpResponseRedirect(reverse("audit:alerts"))
    try:
        acknowledge(alert, actor=request.user, note=form.cleaned_data["note"], request=request)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Alert {alert.pk} ({alert.rule.name}, {alert.subject}) acknowledged.")
    return HttpResponseRedirect(reverse("audit:alerts"))
