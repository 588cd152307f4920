"""Write paths for accounts: directory attributes, group mirroring and the platform flags that follow from groups.

Every directory (mock, LDAP, and later SSO) ends in `sync_user_from_directory`, so group membership and flags
follow the same rules whichever way a person signed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group

from core.security import EventType, record_security_event
from core.services import run_in_transaction

from .models import DirectorySource, MirroredGroup, User


@dataclass(frozen=True)
class DirectoryProfile:
    """What a directory says about a person."""

    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    department: str = ""
    title: str = ""
    groups: tuple[str, ...] = ()


def mirror_groups(user: User, member_of: Iterable[str], managed: Iterable[str]) -> tuple[set[str], set[str]]:
    """Make the user's directory-managed groups exactly `member_of`; groups outside `managed` are left alone.

    Returns the names added and removed, for the caller's record of what changed.
    """
    wanted = set(member_of)
    managed_names = set(managed) | wanted
    current = set(user.groups.filter(name__in=managed_names).values_list("name", flat=True))
    to_add, to_remove = wanted - current, current - wanted
    for name in sorted(to_add):
        group, _ = Group.objects.get_or_create(name=name)
        user.groups.add(group)
    if to_remove:
        user.groups.remove(*Group.objects.filter(name__in=to_remove))
    auditors = settings.ATRIUM_AUDITOR_GROUP
    if auditors in to_add:
        record_security_event(EventType.AUDITOR_GRANTED, user=user, reason=f"member of {auditors} in the directory")
    if auditors in to_remove:
        record_security_event(EventType.AUDITOR_REVOKED, user=user, reason=f"left {auditors} in the directory")
    user.__dict__.pop("_atrium_group_ids", None)
    return to_add, to_remove


def apply_group_flags(user: User, group_names: Iterable[str]) -> None:
    """Platform admins are the admin group's members; admin rights come and go with the group."""
    names = set(group_names)
    is_admin = settings.ATRIUM_ADMIN_GROUP in names
    was_admin = bool(user.pk and user.is_superuser)
    user.is_superuser = is_admin
    user.is_staff = is_admin or settings.ATRIUM_AUDITOR_GROUP in names
    if is_admin != was_admin and (is_admin or user.pk):
        # Platform-admin rights are the most powerful grant there is: every change is a security event.
        event = EventType.ADMIN_GRANTED if is_admin else EventType.ADMIN_REVOKED
        record_security_event(event, user=user if user.pk else None, username=user.username, reason="directory group")


def sync_user_from_directory(profile: DirectoryProfile, *, source: str, managed_groups: Iterable[str]) -> User:
    """Create or update the user from the directory's profile and mirror their groups, in one transaction."""

    def work() -> User:
        user, _ = User.objects.get_or_create(username=profile.username, defaults={"source": source})
        user.first_name = profile.first_name[:150]
        user.last_name = profile.last_name[:150]
        user.email = profile.email
        user.department = profile.department
        user.title = profile.title
        user.source = source
        user.is_active = True
        apply_group_flags(user, profile.groups)
        # The directory holds the password, never Atrium. Only replace a usable one: each new unusable value changes
        # the session auth hash, which would sign the user out of every other session (another device, or this
        # one after an SSO renewal or step-up, which do not log in again).
        if user.has_usable_password():
            user.set_unusable_password()
        user.save()
        mirror_groups(user, profile.groups, managed_groups)
        return user

    return run_in_transaction(work)


def sync_user_from_identity_provider(profile: DirectoryProfile, *, source: str) -> User:
    """Sign-in through an IdP (OIDC, SAML): sync the user and mirror the groups the IdP manages.

    An IdP reports only the groups a person is in now, so every group it has ever reported is remembered as a
    `MirroredGroup` of that source; those are the managed groups (a group the IdP stops reporting is removed),
    and groups it never reported stay local to Atrium, as with the directory.
    """

    def work() -> User:
        managed = remember_managed_groups(source, profile.groups)
        return sync_user_from_directory(profile, source=source, managed_groups=managed)

    return run_in_transaction(work)


def sync_user_from_mock_directory(profile: DirectoryProfile, directory_groups: Iterable[str]) -> User:
    """Sign-in or sync against the mock directory file: its groups, and any it listed before, are mirrored."""

    def work() -> User:
        managed = remember_managed_groups(DirectorySource.MOCK, [*directory_groups, *profile.groups])
        return sync_user_from_directory(profile, source=DirectorySource.MOCK, managed_groups=managed)

    return run_in_transaction(work)


def remember_managed_groups(source: str, reported: Iterable[str]) -> set[str]:
    """Record the groups a source reports now as its `MirroredGroup`s; return every group it has ever managed.

    A group that disappears from the source (dropped from the mock directory's file, no longer sent by the IdP)
    is still the source's: its members are removed at the next sync instead of keeping it as a local group.
    Call inside the transaction that mirrors the memberships.
    """
    for name in sorted(set(reported)):
        group, _ = Group.objects.get_or_create(name=name)
        MirroredGroup.objects.get_or_create(group=group, source=source)
    return set(MirroredGroup.objects.filter(source=source).values_list("group__name", flat=True))
