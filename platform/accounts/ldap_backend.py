"""LDAP authentication (django-auth-ldap) with Atrium's rules: admin and auditor rights follow directory groups."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_auth_ldap.backend import LDAPBackend

from .backends import MAX_USERNAME_LENGTH
from .models import DirectorySource, User
from .services import apply_group_flags


class AtriumLDAPBackend(LDAPBackend):
    """django-auth-ldap with Atrium's flags: platform admin and auditor rights follow the directory's groups."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if not username or len(username) > MAX_USERNAME_LENGTH:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        user.source = DirectorySource.LDAP
        apply_group_flags(user, ldap_user.group_names)
        return user, built
