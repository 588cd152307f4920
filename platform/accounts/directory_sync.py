"""Keeps directory users current between sign-ins: `sync_directory()` refreshes groups and attributes and
deactivates people who left the directory.

`manage.py sync_directory` calls it (and, later, the jobs framework). It works with the configured directory,
LDAP or the mock file, and touches only that directory's users: local accounts (the break-glass admin) and SSO
users are never changed. If the directory cannot be read it reports the error and deactivates nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.security import EventType, record_security_event
from core.services import run_in_transaction

from .models import DirectorySource, User
from .services import sync_user_from_mock_directory

# What the report compares before and after each user's refresh.
TRACKED_FIELDS = ("first_name", "last_name", "email", "department", "title", "is_staff", "is_superuser")
# The security event keeps at most this many per-user changes (the count fields always hold the full totals).
MAX_CHANGES_IN_EVENT = 500


class DirectoryUnavailable(Exception):
    """The directory could not be read; the sync stops and deactivates nobody."""


@dataclass
class UserChange:
    """What the sync changed for one user."""

    username: str
    groups_added: list[str] = field(default_factory=list)
    groups_removed: list[str] = field(default_factory=list)
    attributes: dict[str, list[Any]] = field(default_factory=dict)  # field → [before, after]
    deactivated: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"username": self.username}
        if self.groups_added:
            data["groups_added"] = self.groups_added
        if self.groups_removed:
            data["groups_removed"] = self.groups_removed
        if self.attributes:
            data["attributes"] = self.attributes
        if self.deactivated:
            data["deactivated"] = True
        return data

    def describe(self) -> str:
        parts = []
        if self.deactivated:
            parts.append("deactivated (no longer in the directory)")
        if self.groups_added:
            parts.append("groups added: " + ", ".join(self.groups_added))
        if self.groups_removed:
            parts.append("groups removed: " + ", ".join(self.groups_removed))
        parts.extend(f"{name}: {before!r} → {after!r}" for name, (before, after) in self.attributes.items())
        return f"{self.username}: " + "; ".join(parts)


@dataclass
class SyncReport:
    """The outcome of one sync: how many users were checked, and what changed for whom."""

    directory: str
    checked: int = 0
    changes: list[UserChange] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if c.groups_added or c.groups_removed or c.attributes)

    @property
    def deactivated(self) -> int:
        return sum(1 for c in self.changes if c.deactivated)

    def summary(self) -> str:
        """A few lines for people: the totals, then one line per changed user."""
        head = (
            f"Directory sync ({self.directory}): {self.checked} users checked, {self.updated} updated, "
            f"{self.deactivated} deactivated."
        )
        if self.error:
            head = f"Directory sync ({self.directory}) FAILED: {self.error}. Nobody was deactivated.\n" + head
        return "\n".join([head, *(f"  {change.describe()}" for change in self.changes)])

    def detail(self) -> dict[str, Any]:
        """The security event's detail: the totals and (up to a limit) each user's changes."""
        changes = [c.as_dict() for c in self.changes]
        detail: dict[str, Any] = {
            "directory": self.directory,
            "checked": self.checked,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "changes": changes[:MAX_CHANGES_IN_EVENT],
        }
        if len(changes) > MAX_CHANGES_IN_EVENT:
            detail["changes_left_out"] = len(changes) - MAX_CHANGES_IN_EVENT
        if self.error:
            detail["error"] = self.error
        return detail


def sync_directory(*, actor: Any = None) -> SyncReport:
    """Refresh every active user of the configured directory, deactivate those who left; record what changed."""
    directory = settings.ATRIUM_DIRECTORY
    report = SyncReport(directory=directory)
    try:
        if directory == "ldap":
            _sync(report, _LDAPSource(), actor=actor)
        else:
            _sync(report, _MockSource(), actor=actor)
    except DirectoryUnavailable as exc:
        report.error = str(exc)
        record_security_event(
            EventType.DIRECTORY_UNAVAILABLE,
            user=actor,
            success=False,
            method=directory,
            reason="directory unavailable",
            context="sync_directory",
            error=report.error,
        )
    record_security_event(
        EventType.DIRECTORY_SYNC,
        user=actor,
        success=report.ok,
        method=directory,
        reason=report.error[:255],
        **report.detail(),
    )
    return report


class _Source:
    """One directory as the sync sees it: a check before anything changes, then a refresh per user."""

    source: str = ""

    def check(self) -> None:
        """Raise DirectoryUnavailable if the directory cannot be read at all."""

    def refresh(self, user: User) -> bool:
        """Bring the user up to date; False if the directory no longer has them (or has them disabled)."""
        raise NotImplementedError


class _LDAPSource(_Source):
    source = DirectorySource.LDAP

    def __init__(self) -> None:
        # Imported here: python-ldap is an optional requirement (requirements/ldap.txt), not needed for the mock.
        import ldap

        from .ldap_backend import AtriumLDAPBackend, describe

        self.backend = AtriumLDAPBackend()
        # Always ask the server: a cached group list would report an old membership as current.
        self.backend.settings.CACHE_TIMEOUT = 0
        self._ldap_error = ldap.LDAPError
        self._describe = describe

    def check(self) -> None:
        try:
            self.backend.check_connection()
        except self._ldap_error as exc:
            raise DirectoryUnavailable(f"{type(exc).__name__}: {self._describe(exc)}") from exc

    def refresh(self, user: User) -> bool:
        from .ldap_backend import collect_directory_errors

        with collect_directory_errors() as errors:
            refreshed = self.backend.populate_user(user.username)
        # With a DN template, a deleted user's entry reads as NO_SUCH_OBJECT: that user left, the directory is up.
        gone_by_template = self.backend.settings.USER_DN_TEMPLATE and all(e.error == "NO_SUCH_OBJECT" for e in errors)
        if errors and not gone_by_template:
            raise DirectoryUnavailable(f"while reading {user.username}: {errors[0]}")
        return refreshed is not None


class _MockSource(_Source):
    source = DirectorySource.MOCK

    def __init__(self) -> None:
        from .directory import mock_directory

        self.directory = mock_directory()

    def check(self) -> None:
        try:
            self.snapshot = self.directory.snapshot()
        except (ImproperlyConfigured, OSError, yaml.YAMLError) as exc:
            raise DirectoryUnavailable(str(exc)) from exc

    def refresh(self, user: User) -> bool:
        entry = self.snapshot.entries.get(user.username)
        if entry is None or entry.disabled:
            return False
        sync_user_from_mock_directory(entry.profile(), self.snapshot.groups)
        return True


def _state(user: User) -> tuple[dict[str, Any], set[str]]:
    fresh = User.objects.get(pk=user.pk)
    return {name: getattr(fresh, name) for name in TRACKED_FIELDS}, set(fresh.groups.values_list("name", flat=True))


def _sync(report: SyncReport, source: _Source, *, actor: Any) -> None:
    source.check()  # nothing has changed yet: an unreachable directory leaves everything as it was
    users = list(User.objects.filter(is_active=True, source=source.source).order_by("username"))
    gone: list[User] = []
    for user in users:
        before_fields, before_groups = _state(user)
        present = source.refresh(user)  # raises DirectoryUnavailable: stop, and deactivate nobody
        report.checked += 1
        if not present:
            gone.append(user)
            continue
        after_fields, after_groups = _state(user)
        change = UserChange(
            username=user.username,
            groups_added=sorted(after_groups - before_groups),
            groups_removed=sorted(before_groups - after_groups),
            attributes={
                k: [before_fields[k], after_fields[k]] for k in TRACKED_FIELDS if before_fields[k] != after_fields[k]
            },
        )
        if change.groups_added or change.groups_removed or change.attributes:
            report.changes.append(change)
    if gone and len(gone) == len(users):
        # Every user missing at once is a wrong search base or filter, not a mass exodus.
        raise DirectoryUnavailable(
            f"the directory returned none of the {len(users)} users; check its settings "
            "(LDAP_USER_SEARCH_BASE and LDAP_USER_FILTER, or MOCK_DIRECTORY_FILE)"
        )
    for user in gone:
        _deactivate(user, actor=actor, directory=report.directory)
        report.changes.append(UserChange(username=user.username, deactivated=True))


def _deactivate(user: User, *, actor: Any, directory: str) -> None:
    def work() -> None:
        User.objects.filter(pk=user.pk).update(is_active=False)

    run_in_transaction(work)
    record_security_event(
        EventType.USER_DEACTIVATED,
        user=user,
        username=user.username,
        method=directory,
        reason="no longer in the directory",
        by=getattr(actor, "username", "") or "sync_directory",
    )
