"""Forms for signing in."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .backends import MAX_USERNAME_LENGTH


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a bounded username and a message that does not say which part was wrong."""

    username = forms.CharField(max_length=MAX_USERNAME_LENGTH, widget=forms.TextInput(attrs={"autofocus": True}))

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The username or password is not right. Both are case-sensitive.",
    }
