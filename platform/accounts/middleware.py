"""Session lifetime (idle timeout and absolute lifetime) and MFA for the admin."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from core.live import live_setting
from core.security import EventType, record_security_event
from core.views import API_PREFIX

from .mfa import has_mfa, step_up_url

SESSION_AUTH_TIME = "atrium_auth_time"
SESSION_LAST_SEEN = "atrium_last_seen"
# Write the last-seen time at most this often, so an active user does not cost a session write per request.
LAST_SEEN_RESOLUTION = 60


class SessionLifetimeMiddleware:
    """Signs a user out after the live setting's idle minutes, and after SESSION_ABSOLUTE_HOURS in any case."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            expired = self._expired(request)
            if expired:
                record_security_event(EventType.SESSION_EXPIRED, request=request, reason=expired)
                logout(request)
                if request.path.startswith(API_PREFIX):
                    # A script cannot follow a redirect to a sign-in form: the API answers the call, now
                    # anonymous, with its own 401 problem document.
                    return self.get_response(request)
                messages.info(request, "You were signed out after a period of inactivity. Please sign in again.")
                return HttpResponseRedirect(f"{reverse('accounts:login')}?next={request.get_full_path()}")
        return self.get_response(request)

    @staticmethod
    def _expired(request: HttpRequest) -> str:
        now = int(time.time())
        session = request.session
        auth_time = session.setdefault(SESSION_AUTH_TIME, now)
        last_seen = session.get(SESSION_LAST_SEEN, now)
        if now - auth_time > settings.SESSION_ABSOLUTE_HOURS * 3600:
            return "absolute lifetime reached"
        if now - last_seen > int(live_setting("SESSION_IDLE_TIMEOUT_MINUTES")) * 60:
            return "idle timeout"
        if now - last_seen >= LAST_SEEN_RESOLUTION or SESSION_LAST_SEEN not in session:
            session[SESSION_LAST_SEEN] = now
        return ""


class AdminMfaMiddleware:
    """With ADMIN_REQUIRES_MFA, the admin asks every signed-in user for MFA before the first admin page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefix = "/admin/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.ADMIN_REQUIRES_MFA
            and request.path.startswith(self.prefix)
            and request.user.is_authenticated
            and not has_mfa(request)
        ):
            record_security_event(EventType.MFA_REQUIRED, request=request, reason="admin")
            return HttpResponseRedirect(step_up_url(request, request.get_full_path()))
        return self.get_response(request)
