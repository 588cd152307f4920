"""Write paths for accounts: directory attributes, group mirroring and the platform flags that follow from groups.

Every directory (mock, LDAP, and later SSO) ends in `sync_user_from_directory`, so group membership and flags
follow the same rules whichever way a person signed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group

from core.services import run_in_transaction

from .models import User


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
    return to_add, to_remove


def apply_group_flags(user: User, group_names: Iterable[str]) -> None:
    """Platform admins are the admin group's members; admin rights come and go with the group."""
    names = set(group_names)
    is_admin = settings.ATRIUM_ADMIN_GROUP in names
    user.is_superuser = is_admin
    user.is_staff = is_admin or settings.ATRIUM_AUDITOR_GROUP in names


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
        user.set_unusable_password()  # the directory holds the password, never Atrium
        user.save()
        mirror_groups(user, profile.groups, managed_groups)
        return user

    return run_in_transaction(work)
