"""Who may visit and who may change a section: the one place these rules live.

Platform admins may do everything; auditors may read everything and change nothing; a section's editors
(groups holding `tenants.change_section` on it, through django-guardian) change its configuration; its viewers
(groups holding `tenants.view_section`) may visit it, and a section with no viewer role is open to every
signed-in user.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from .models import Section, SectionRole, SectionRoleKind

VIEW_PERMISSION = "tenants.view_section"
CHANGE_PERMISSION = "tenants.change_section"


def is_platform_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def is_auditor(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_auditor", False))


def reads_everything(user: Any) -> bool:
    """Platform admins and auditors may read every section, archived ones included."""
    return is_platform_admin(user) or is_auditor(user)


def editable_sections(user: Any) -> QuerySet[Section]:
    """The sections whose configuration `user` may change."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Section.objects.none()
    if is_platform_admin(user):
        return Section.objects.all()
    return get_objects_for_user(user, CHANGE_PERMISSION, klass=Section, accept_global_perms=False)


def readable_sections(user: Any) -> QuerySet[Section]:
    """The sections whose configuration and history `user` may read (admin and API listings)."""
    if reads_everything(user):
        return Section.objects.all()
    return editable_sections(user)


def can_edit_section(user: Any, section: Section) -> bool:
    if is_platform_admin(user):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.has_perm(CHANGE_PERMISSION, section))


def section_is_open_to_all(section: Section) -> bool:
    """A section with no viewer role may be visited by every signed-in user."""
    return not SectionRole.objects.all_sections().filter(section=section, role=SectionRoleKind.VIEWER).exists()


def can_visit_section(user: Any, section: Section) -> bool:
    """May `user` see the section's pages? (Archived sections are handled by the caller: 410, or read-only.)"""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if reads_everything(user):
        return True
    if section_is_open_to_all(section):
        return True
    return bool(user.has_perm(VIEW_PERMISSION, section) or user.has_perm(CHANGE_PERMISSION, section))


def visitable_sections(user: Any) -> list[Section]:
    """Live sections `user` may visit, for the home page's list."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    sections = Section.objects.all() if reads_everything(user) else Section.objects.live()
    if reads_everything(user):
        return list(sections)
    granted = set(
        get_objects_for_user(
            user, [VIEW_PERMISSION, CHANGE_PERMISSION], klass=Section, any_perm=True, accept_global_perms=False
        ).values_list("pk", flat=True)
    )
    restricted = set(
        SectionRole.objects.all_sections().filter(role=SectionRoleKind.VIEWER).values_list("section_id", flat=True)
    )
    return [s for s in sections if s.pk in granted or s.pk not in restricted]
