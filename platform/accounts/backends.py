"""Authentication backend for the mock directory (development only; the settings refuse it in uat and prod)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from .directory import mock_directory
from .models import DirectorySource, User, load_active_user
from .services import sync_user_from_mock_directory

MAX_USERNAME_LENGTH = 150


class MockDirectoryBackend(BaseBackend):
    """Signs people in against the mock directory file and mirrors their groups, like the LDAP backend."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if kwargs.get("break_glass") or not username or password is None or len(username) > MAX_USERNAME_LENGTH:
            return None  # the break-glass form checks local accounts only
        directory = mock_directory()
        entry = directory.check_password(username, password)
        if entry is None:
            return None
        return sync_user_from_mock_directory(entry.profile(), directory.snapshot().groups)

    def get_user(self, user_id: int) -> User | None:
        return load_active_user(user_id)


class BreakGlassBackend(BaseBackend):
    """The local platform-admin account for when the directory and SSO are down.

    Only the break-glass form can use it (it passes `break_glass=True`); the password alone is not enough, the
    form also checks a TOTP code, and every use raises a security alert.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        break_glass: bool = False,
        **kwargs: Any,
    ) -> User | None:
        if not break_glass or not username or not password or len(username) > MAX_USERNAME_LENGTH:
            return None
        user = User.objects.filter(username=username, source=DirectorySource.LOCAL, is_superuser=True).first()
        if user is None or not user.is_active or not user.check_password(password):
            User().set_password(password)  # same work whether or not the account exists: no timing oracle
            return None
        return user

    def get_user(self, user_id: int) -> User | None:
        return load_active_user(user_id, source=DirectorySource.LOCAL)
