"""Forms for signing in: the directory form, the break-glass form, and the TOTP forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_totp.models import TOTPDevice

from .backends import MAX_USERNAME_LENGTH

DIRECTORY_UNAVAILABLE = (
    "The directory is not answering, so sign-in is not possible right now. Please try again in a few minutes."
)


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a bounded username and a message that does not say which part was wrong."""

    username = forms.CharField(max_length=MAX_USERNAME_LENGTH, widget=forms.TextInput(attrs={"autofocus": True}))

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The username or password is not right. Both are case-sensitive.",
    }

    def get_invalid_login_error(self) -> ValidationError:
        # The LDAP backend marks the request when the server could not be reached: say so, not "wrong password".
        if getattr(self.request, "atrium_directory_unavailable", False):
            return ValidationError(DIRECTORY_UNAVAILABLE, code="directory_unavailable")
        return super().get_invalid_login_error()


def verify_totp(user: Any, token: str) -> TOTPDevice | None:
    """The user's confirmed TOTP device that accepts `token`, if any (django-otp also blocks replays)."""
    token = (token or "").replace(" ", "")
    if not token.isdigit() or len(token) > 8:
        return None
    for device in TOTPDevice.objects.devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


class TokenForm(forms.Form):
    """A six-digit code from an authenticator app."""

    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def __init__(self, user: Any, *args: Any, device: TOTPDevice | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = device
        self.verified_device: TOTPDevice | None = None

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        if self.device is not None:
            ok = self.device.verify_token(token.replace(" ", "")) if token.replace(" ", "").isdigit() else False
            self.verified_device = self.device if ok else None
        else:
            self.verified_device = verify_totp(self.user, token)
        if self.verified_device is None:
            raise ValidationError("That code is not right, or it has already been used. Wait for the next one.")
        return token


class BreakGlassForm(forms.Form):
    """The local platform-admin sign-in: username, password and a TOTP code, all required."""

    username = forms.CharField(max_length=MAX_USERNAME_LENGTH)
    password = forms.CharField(widget=forms.PasswordInput)
    token = forms.CharField(label="Authenticator code", max_length=8)

    def __init__(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: Any = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        user = authenticate(self.request, username=data["username"], password=data["password"], break_glass=True)
        if user is None or verify_totp(user, data["token"]) is None:
            raise ValidationError("These break-glass credentials are not right.", code="invalid_login")
        self.user = user
        return data
