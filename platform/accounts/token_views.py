"""The API tokens page (/accounts/tokens/): a person's own tokens, the form to create one, and revoking.

A new token's secret is shown once, in the answer to the form (never stored, never put in the session, and the
answer is marked no-store), so a reload or the back button cannot show it again.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenants.models import Section

from .models import TokenScope, validate_ip_ranges
from .tokens import create_token, max_token_days, revoke_token, token_sections, tokens_of


class TokenCreateForm(forms.Form):
    """Name, scope, expiry date, and the optional section and IP restrictions of a new token."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “nightly budget export”.")
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Read only unless the integration must change something.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token stops working at the end of this day.",
    )
    section = forms.ModelChoiceField(
        queryset=Section.objects.none(),
        required=False,
        empty_label="Every section I may use",
        help_text="Restrict the token to one section.",
    )
    allowed_ips = forms.CharField(
        label="IP ranges",
        required=False,
        max_length=1000,
        validators=[validate_ip_ranges],
        help_text="Comma-separated addresses or CIDR networks, e.g. 10.20.0.0/16 (empty: from anywhere).",
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["expires_on"].initial = today + timedelta(days=90)
        self.fields["expires_on"].widget.attrs.update(
            {"min": (today + timedelta(days=1)).isoformat(), "max": self.last_day().isoformat()}
        )
        self.fields["section"].queryset = token_sections(user)  # type: ignore[attr-defined]

    @staticmethod
    def last_day() -> Any:
        return timezone.localdate() + timedelta(days=max_token_days())

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data["expires_on"]
        if day <= timezone.localdate():
            raise ValidationError("Choose a day after today.")
        if day > self.last_day():
            raise ValidationError(f"A token can live at most {max_token_days()} days.")
        return day

    def expires_at(self) -> datetime:
        """The end of the chosen day, in the platform's time zone."""
        return timezone.make_aware(datetime.combine(self.cleaned_data["expires_on"] + timedelta(days=1), time.min))


def _page(request: HttpRequest, form: TokenCreateForm, *, new_token: str = "", status: int = 200) -> HttpResponse:
    response = render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens_of(request.user), "new_token": new_token, "now": timezone.now()},
        status=status,
    )
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """GET /accounts/tokens/: your tokens and the create form; POST creates one and shows its secret once."""
    if request.method != "POST":
        return _page(request, TokenCreateForm(request.user))
    form = TokenCreateForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        new = create_token(
            request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
            section=form.cleaned_data["section"],
            allowed_ips=form.cleaned_data["allowed_ips"],
            request=request,
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, form, status=400)
    return _page(request, TokenCreateForm(request.user), new_token=new.plaintext)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """POST /accounts/tokens/<id>/revoke/: revoke one of your tokens (another person's token is a 404)."""
    token = get_object_or_404(tokens_of(request.user), pk=pk)
    revoke_token(token, actor=request.user, request=request)
    messages.success(request, f"The token {token.display_prefix} “{token.name}” is revoked; it no longer works.")
    return HttpResponseRedirect(reverse("accounts:tokens"))
