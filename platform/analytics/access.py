"""Who reads which analytics: the one place the dashboards and the API take their rules from.

A section's analytics are read by its editors and its owners (Section.owners), by platform admins and by auditors;
platform-wide figures (all sections together, and the platform pages that belong to no section) only by platform
admins and auditors. Everyone else is told the dashboard does not exist (404), never that it is forbidden.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tenants.models import Section
from tenants.permissions import can_edit_section, editable_sections, reads_everything


def is_signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def analytics_sections(user: Any) -> QuerySet[Section]:
    """The sections whose analytics `user` may read."""
    if not is_signed_in(user):
        return Section.objects.none()
    if reads_everything(user):
        return Section.objects.all()
    edited = editable_sections(user).values("pk")
    return Section.objects.filter(Q(pk__in=edited) | Q(owners=user)).distinct()


def reads_section_analytics(user: Any, section: Section) -> bool:
    """May `user` read this section's dashboard?"""
    if not is_signed_in(user):
        return False
    if reads_everything(user) or can_edit_section(user, section):
        return True
    return section.owners.filter(pk=user.pk).exists()


def reads_platform_analytics(user: Any) -> bool:
    """May `user` read the platform-wide figures (every section, and pages outside any section)?"""
    return is_signed_in(user) and reads_everything(user)


def sees_analytics(user: Any) -> bool:
    """Should the user menu offer the dashboards? (Platform readers, and editors or owners of a section.)"""
    return reads_platform_analytics(user) or analytics_sections(user).exists()
