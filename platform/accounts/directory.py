"""The mock directory: users, passwords and groups from a YAML file, for development only.

It answers the same questions an LDAP directory does (does this password match, what are this person's
attributes and groups), so the sign-in code above it does not care which one is configured.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .services import DirectoryProfile


@dataclass(frozen=True)
class DirectoryEntry:
    """One person as the directory knows them."""

    username: str
    password: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department: str = ""
    title: str = ""
    groups: tuple[str, ...] = ()
    disabled: bool = False

    def profile(self) -> DirectoryProfile:
        """What the directory says about this person, in the form every directory hands to the sign-in code."""
        from .services import DirectoryProfile

        return DirectoryProfile(
            username=self.username,
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            department=self.department,
            title=self.title,
            groups=self.groups,
        )


@dataclass(frozen=True)
class DirectorySnapshot:
    """Everything in the directory file at one moment."""

    entries: dict[str, DirectoryEntry] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()


class MockDirectory:
    """Reads the directory file, re-reading it when it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._snapshot = DirectorySnapshot()

    def snapshot(self) -> DirectorySnapshot:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError as exc:
            raise ImproperlyConfigured(f"Mock directory file {self.path} does not exist.") from exc
        with self._lock:
            if mtime != self._mtime:
                self._snapshot = parse_directory(yaml.safe_load(self.path.read_text(encoding="utf-8")) or {})
                self._mtime = mtime
            return self._snapshot

    def find(self, username: str) -> DirectoryEntry | None:
        return self.snapshot().entries.get(username)

    def check_password(self, username: str, password: str) -> DirectoryEntry | None:
        """The entry, if the user exists, is enabled, and the password matches (compared in constant time)."""
        entry = self.find(username)
        if entry is None or entry.disabled:
            return None
        if not hmac.compare_digest(entry.password.encode(), password.encode()):
            return None
        return entry


def parse_directory(data: dict[str, Any]) -> DirectorySnapshot:
    """Turn the YAML document into entries; a malformed file is a configuration error, said plainly."""
    users = data.get("users") or {}
    if not isinstance(users, dict):
        raise ImproperlyConfigured("The mock directory file needs a 'users:' mapping of username to attributes.")
    groups = set(data.get("groups") or {})
    entries = {}
    for username, raw in users.items():
        attrs = raw or {}
        if "password" not in attrs:
            raise ImproperlyConfigured(f"Mock directory user {username!r} has no password.")
        member_of = tuple(str(g) for g in attrs.get("groups", []))
        groups.update(member_of)
        entries[str(username)] = DirectoryEntry(
            username=str(username),
            password=str(attrs["password"]),
            first_name=str(attrs.get("first_name", "")),
            last_name=str(attrs.get("last_name", "")),
            email=str(attrs.get("email", "")),
            department=str(attrs.get("department", "")),
            title=str(attrs.get("title", "")),
            groups=member_of,
            disabled=bool(attrs.get("disabled", False)),
        )
    return DirectorySnapshot(entries=entries, groups=frozenset(groups))


_directories: dict[Path, MockDirectory] = {}


def mock_directory() -> MockDirectory:
    """The process-wide mock directory for the configured file."""
    path = Path(settings.MOCK_DIRECTORY_FILE)
    if path not in _directories:
        _directories[path] = MockDirectory(path)
    return _directories[path]
