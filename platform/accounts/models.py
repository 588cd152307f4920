"""Atrium's user model: Django's user plus the directory attributes pages and menus need."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class DirectorySource(models.TextChoices):
    LOCAL = "local", "Local account"
    MOCK = "mock", "Mock directory"
    LDAP = "ldap", "LDAP"
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML"


class User(AbstractUser):
    """A person who signs in; groups come from the directory they signed in through."""

    department = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10, choices=DirectorySource.choices, default=DirectorySource.LOCAL)

    class Meta:
        ordering = ["username"]

    @property
    def is_platform_admin(self) -> bool:
        """Platform admins may do everything (superusers, mirrored from the admin group)."""
        return self.is_active and self.is_superuser

    @property
    def is_auditor(self) -> bool:
        """Auditors read everything, including history, and change nothing."""
        if not self.is_active:
            return False
        cached = getattr(self, "_atrium_is_auditor", None)
        if cached is None:
            cached = self.groups.filter(name=settings.ATRIUM_AUDITOR_GROUP).exists()
            self._atrium_is_auditor = cached
        return cached

    def group_ids(self) -> list[int]:
        """The user's group ids, sorted (menus and permissions are cached by them); memoised per request."""
        cached = getattr(self, "_atrium_group_ids", None)
        if cached is None:
            cached = sorted(self.groups.values_list("id", flat=True))
            self._atrium_group_ids = cached
        return cached
