"""Sign-in, sign-out, the break-glass sign-in, and the TOTP pages (verify and set up)."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.mail import mail_admins, send_mail
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.security import EventType, record_security_event

from . import oidc
from .forms import BreakGlassForm, SignInForm, TokenForm
from .mfa import SESSION_METHOD, SESSION_MFA


def safe_next(request: HttpRequest, default: str = "") -> str:
    """The `next` parameter if it stays on this site, else the default landing page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


class SignInView(auth_views.LoginView):
    """The sign-in page: the SSO buttons that are enabled, the directory form, and a link to break-glass."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            oidc_enabled=settings.OIDC_ENABLED,
            saml_enabled=settings.SAML_ENABLED,
            directory=settings.ATRIUM_DIRECTORY,
            sso_failed=self.request.GET.get("sso") == "failed",
        )
        return context


class SignOutView(auth_views.LogoutView):
    """Sign-out by POST (with CSRF): the server-side session is deleted and, after SSO, ended at the IdP too."""

    template_name = "accounts/logged_out.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        method = request.session.get(SESSION_METHOD, "")
        if method == "saml" and settings.SAML_ENABLED:
            # djangosaml2's logout view ends the local session and sends the LogoutRequest to the IdP.
            return HttpResponseRedirect(resolve_url("accounts:saml-logout"))
        idp_logout = oidc.idp_logout_url(request) if method == "oidc" and settings.OIDC_ENABLED else None
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(idp_logout) if idp_logout else response


def _alert_break_glass_use(request: HttpRequest, username: str) -> None:
    record_security_event(EventType.BREAK_GLASS, request=request, username=username, method="local")
    subject = f"[Atrium {settings.ATRIUM_ENV}] Break-glass sign-in by {username}"
    body = (
        f"The break-glass account {username!r} signed in to Atrium ({settings.ATRIUM_ENV}) "
        f"from {request.META.get('REMOTE_ADDR', '?')}. If this was not a planned recovery, treat it as an incident."
    )
    if settings.SECURITY_ALERT_EMAILS:
        send_mail(subject, body, None, settings.SECURITY_ALERT_EMAILS, fail_silently=True)
    else:
        mail_admins(subject, body, fail_silently=True)


@sensitive_post_parameters("password", "token")
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    """Local platform-admin sign-in (password + TOTP) for when the directory and SSO are down; always alerted."""
    form = BreakGlassForm(request, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.user
            login(request, user, backend="accounts.backends.BreakGlassBackend")
            request.session[SESSION_MFA] = "totp"
            _alert_break_glass_use(request, user.username)
            messages.warning(request, "You are signed in with the break-glass account. This use has been reported.")
            return HttpResponseRedirect(safe_next(request, resolve_url("admin:index")))
        record_security_event(
            EventType.BREAK_GLASS,
            request=request,
            username=request.POST.get("username", "")[:150],
            success=False,
            reason="refused",
            method="local",
        )
    return render(request, "accounts/break_glass.html", {"form": form, "next": safe_next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Ask for a TOTP code; users without an authenticator yet are sent to set one up."""
    next_url = safe_next(request)
    if not TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists():
        return HttpResponseRedirect(f"{resolve_url('accounts:mfa-setup')}?next={next_url}")
    form = TokenForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            otp_login(request, form.verified_device)
            request.session[SESSION_MFA] = "totp"
            record_security_event(EventType.MFA_PASSED, request=request, method="totp")
            return HttpResponseRedirect(next_url)
        record_security_event(EventType.MFA_FAILED, request=request, success=False, method="totp")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": next_url})


def _qr_data_uri(uri: str) -> str:
    # A data: URI, allowed by the CSP's img-src, so the secret never leaves the page in a separate request.
    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the secret as a QR code, confirm it with a first code."""
    next_url = safe_next(request)
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        if TOTPDevice.objects.devices_for_user(request.user, confirmed=True).exists():
            return HttpResponseRedirect(f"{resolve_url('accounts:mfa-verify')}?next={next_url}")
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.user, request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        request.session[SESSION_MFA] = "totp"
        record_security_event(EventType.MFA_PASSED, request=request, method="totp", reason="enrolled")
        return HttpResponseRedirect(next_url)
    context = {
        "form": form,
        "next": next_url,
        "qr": _qr_data_uri(device.config_url),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "accounts/mfa_setup.html", context)
