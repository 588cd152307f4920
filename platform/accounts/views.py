"""Sign-in and sign-out pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from .forms import SignInForm


class SignInView(auth_views.LoginView):
    """The sign-in form; the session key is rotated on success (Django's `login()` does it)."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """Sign-out by POST (with CSRF); the server-side session is deleted."""

    template_name = "accounts/logged_out.html"
