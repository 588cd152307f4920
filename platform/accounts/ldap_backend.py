"""LDAP authentication (django-auth-ldap) with Atrium's rules.

On top of django-auth-ldap this backend: mirrors only the groups that live under LDAP_GROUP_SEARCH_BASE (local
Django groups are left alone), sets the platform-admin flags from the directory's groups, never takes over a
local account, refuses deactivated users, and tells the sign-in form when the directory could not be reached
(django-auth-ldap swallows LDAP errors and only sends its `ldap_error` signal) instead of "wrong password".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import islice
from typing import Any

import ldap
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest
from django_auth_ldap.backend import LDAPBackend, ldap_error, populate_user, valid_cache_key
from django_auth_ldap.config import LDAPSearch
from ldap.filter import escape_filter_chars

from core.security import EventType, record_security_event
from core.services import run_in_transaction

from .backends import MAX_USERNAME_LENGTH
from .models import DirectorySource, User, load_active_user
from .services import apply_group_flags, mirror_groups

# Group names per LDAP query when checking which of a user's groups exist in the directory (keeps filters short).
GROUP_LOOKUP_BATCH = 50


@dataclass(frozen=True)
class DirectoryError:
    """One LDAP error that django-auth-ldap caught (it logs them and carries on as if the user were unknown)."""

    context: str
    error: str
    message: str

    def __str__(self) -> str:
        return f"{self.error}: {self.message}" if self.message else self.error


def describe(exception: BaseException) -> str:
    """python-ldap puts a dict with 'desc' and 'info' in its exceptions' args; make one readable line of it."""
    first = exception.args[0] if exception.args else None
    if isinstance(first, dict):
        return " - ".join(str(first[k]) for k in ("desc", "info") if first.get(k))
    return str(exception)


_collected: ContextVar[list[DirectoryError] | None] = ContextVar("atrium_ldap_errors", default=None)


@contextmanager
def collect_directory_errors() -> Iterator[list[DirectoryError]]:
    """Collect the LDAP errors django-auth-ldap reports inside the block (a context variable: per thread/task)."""
    errors: list[DirectoryError] = []
    token = _collected.set(errors)
    try:
        yield errors
    finally:
        _collected.reset(token)


@receiver(ldap_error)
def _on_ldap_error(
    sender: Any, context: str, user: Any, request: HttpRequest | None, exception: BaseException, **kwargs: Any
) -> None:
    """Remember the error, and mark the request so the form says "directory not answering" and axes ignores it."""
    if not (isinstance(sender, type) and issubclass(sender, AtriumLDAPBackend)):
        return
    error = DirectoryError(context=context, error=type(exception).__name__, message=describe(exception))
    errors = _collected.get()
    if errors is not None:
        errors.append(error)
    if request is not None:
        request.atrium_directory_unavailable = True  # type: ignore[attr-defined]


def failed_because_directory_unavailable(request: HttpRequest | None, credentials: Any = None) -> bool:
    """AXES_WHITELIST_CALLABLE: a sign-in that failed because the directory was down is not a guess to count."""
    return bool(getattr(request, "atrium_directory_unavailable", False))


class AtriumLDAPBackend(LDAPBackend):
    """django-auth-ldap with Atrium's group mirroring, flags, outage reporting and account guards."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        # The break-glass form is for the local account only: never ask the directory (it may be the thing down).
        if kwargs.get("break_glass") or not username or not password or len(username) > MAX_USERNAME_LENGTH:
            return None
        with collect_directory_errors() as errors:
            user = super().authenticate(request, username=username, password=password, **kwargs)
        if errors:
            self._forget_cached_dn(username)
            record_security_event(
                EventType.DIRECTORY_UNAVAILABLE,
                request=request,
                username=username[:MAX_USERNAME_LENGTH],
                success=False,
                method="ldap",
                reason="directory unavailable",
                context=errors[0].context,
                error=str(errors[0]),
            )
        return user

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> User | None:
        # The whole sign-in is one transaction (retried on a Galera conflict), so the attributes and the mirrored
        # groups change together. Every LDAP query happens before the first write, inside ldap_user.authenticate.
        return run_in_transaction(lambda: self._mirror(ldap_user.authenticate(password)))

    def populate_user(self, username: str) -> User | None:
        """Refresh a user's attributes, groups and flags from the directory without their password (sync)."""
        refresh = super().populate_user
        return run_in_transaction(lambda: self._mirror(refresh(username)))

    def get_user(self, user_id: int) -> User | None:
        # django-auth-ldap returns inactive users too; a user deactivated by sync_directory must lose their session.
        return load_active_user(user_id)

    def get_or_build_user(self, username: str, ldap_user: Any) -> tuple[User, bool]:
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.source == DirectorySource.LOCAL:
            # A directory entry that happens to share a local account's name (the break-glass admin) must not
            # take it over: it would lose its password and its independence from the directory.
            raise ldap_user.AuthenticationFailed(f"{username} is a local account")
        if not built and not user.is_active:
            # Deactivated in Atrium (by sync_directory or an admin): only a platform admin lets them back in.
            raise ldap_user.AuthenticationFailed(f"{username} is deactivated")
        user.source = DirectorySource.LDAP
        member_of = set(ldap_user.group_names)
        apply_group_flags(user, member_of)
        others = (set(user.groups.values_list("name", flat=True)) if user.pk else set()) - member_of
        # Only groups that exist under the group base are the directory's to add and remove; the rest are local.
        managed = member_of | (self.directory_groups(ldap_user.connection, others) if others else set())
        user._atrium_directory_groups = (member_of, managed)  # type: ignore[attr-defined]
        return user, built

    def directory_groups(self, connection: Any, names: Iterable[str]) -> set[str]:
        """Which of these group names exist under LDAP_GROUP_SEARCH_BASE (as groups of the configured type)."""
        group_search = self.settings.GROUP_SEARCH
        group_type = self.settings.GROUP_TYPE
        attr = group_type.name_attr
        found: set[str] = set()
        for batch in _batches(sorted(n for n in names if n), GROUP_LOOKUP_BATCH):
            wanted = "".join(f"({attr}={escape_filter_chars(name)})" for name in batch)
            search = LDAPSearch(
                group_search.base_dn,
                group_search.scope,
                f"(&{group_search.filterstr}(|{wanted}))",
                attrlist=[attr],  # names only: a big group's member list is not needed here
            )
            found |= {name for info in search.execute(connection) if (name := group_type.group_name_from_info(info))}
        return found

    def check_connection(self) -> None:
        """Bind with the service account and read the user search base; raises ldap.LDAPError if that fails."""
        connection = ldap.initialize(self.settings.SERVER_URI, bytes_mode=False)
        try:
            for option, value in self.settings.CONNECTION_OPTIONS.items():
                connection.set_option(option, value)
            if self.settings.START_TLS:
                connection.start_tls_s()
            connection.simple_bind_s(self.settings.BIND_DN, self.settings.BIND_PASSWORD)
            search = self.settings.USER_SEARCH
            if isinstance(search, LDAPSearch):
                connection.search_s(search.base_dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
        finally:
            with suppress(ldap.LDAPError):
                connection.unbind_s()

    def _mirror(self, user: User | None) -> User | None:
        if user is not None:
            member_of, managed = user._atrium_directory_groups  # type: ignore[attr-defined]
            mirror_groups(user, member_of, managed)
        return user

    def _forget_cached_dn(self, username: str) -> None:
        # django-auth-ldap caches a failed DN lookup (None) like a real one: after an outage, that would refuse
        # the user for LDAP_CACHE_TIMEOUT seconds although the directory is back.
        if self.settings.CACHE_TIMEOUT > 0:
            cache.delete(valid_cache_key(f"django_auth_ldap.user_dn.{username.strip()}"))


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _field_length(name: str) -> int:
    return int(getattr(User._meta.get_field(name), "max_length", None) or 0)


@receiver(populate_user)
def _fit_directory_attributes(sender: Any, user: User, ldap_user: Any, **kwargs: Any) -> None:
    """Clear attributes the directory no longer has and cut values to the columns (MariaDB's strict mode refuses)."""
    if not (isinstance(sender, type) and issubclass(sender, AtriumLDAPBackend)):
        return
    attrs = ldap_user.attrs or {}
    for field, attr in ldap_user.settings.USER_ATTR_MAP.items():
        values = attrs.get(attr) or [""]
        setattr(user, field, str(values[0])[: _field_length(field) or None])
