"""Who may visit and who may change a section: the one place these rules live.

Platform admins may do everything; auditors may read everything and change nothing; a section's editors
(groups holding `tenants.change_section` on it, through django-guardian) change its configuration; its viewers
(groups holding `tenants.view_section`) may visit it, and a section with no viewer role is open to every
signed-in user.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from core.cache import versioned_get
from core.context import current_request_id

from .models import Section, SectionRole, SectionRoleKind

VIEW_PERMISSION = "tenants.view_section"
CHANGE_PERMISSION = "tenants.change_section"


ACCESS_TIMEOUT = 3600


@dataclass(frozen=True)
class SectionAccess:
    """Which groups may visit and edit a section, cached per configuration version (no queries on warm pages)."""

    open_to_all: bool
    viewer_group_ids: frozenset[int]
    editor_group_ids: frozenset[int]


def section_access(section: Section) -> SectionAccess:
    """The section's roles as group ids; the version in the key means a role change shows on the next request."""
    key = f"tenants:access:{section.pk}:v{section.config_version}"

    def load() -> SectionAccess:
        roles = list(SectionRole.objects.all_sections().filter(section=section).values_list("role", "group_id"))
        viewers = frozenset(g for role, g in roles if role == SectionRoleKind.VIEWER)
        editors = frozenset(g for role, g in roles if role == SectionRoleKind.EDITOR)
        return SectionAccess(open_to_all=not viewers, viewer_group_ids=viewers, editor_group_ids=editors)

    return versioned_get(key, load, ACCESS_TIMEOUT)


def _user_group_ids(user: Any) -> set[int]:
    group_ids = getattr(user, "group_ids", None)
    return set(group_ids()) if callable(group_ids) else set()


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
    return bool(section_access(section).editor_group_ids & _user_group_ids(user))


def section_is_open_to_all(section: Section) -> bool:
    """A section with no viewer role may be visited by every signed-in user."""
    return section_access(section).open_to_all


def can_visit_section(user: Any, section: Section) -> bool:
    """May `user` see the section's pages? (Archived sections are handled by the caller: 410, or read-only.)

    Decided from the section's cached roles and the user's groups, the same grants the guardian permissions
    hold (the services write both), so a warm page needs no permission queries.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if reads_everything(user):
        return True
    access = section_access(section)
    if access.open_to_all:
        return True
    return bool((access.viewer_group_ids | access.editor_group_ids) & _user_group_ids(user))


def sections_generation() -> int:
    """A counter that moves whenever any section, role or theme changes; part of the cached lists' keys.

    Read once per request (memoised in the request context), however many cached lists use it.
    """
    memo = _generation_memo.get()
    if memo is not None:
        return memo
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = 1
        cache.add(GENERATION_KEY, generation, None)
    if current_request_id() != "-":
        _generation_memo.set(int(generation))
    return int(generation)


_generation_memo: ContextVar[int | None] = ContextVar("atrium_sections_generation", default=None)


def forget_generation_memo() -> None:
    """Called when a request ends (and after a bump), so the next one reads the shared counter again."""
    _generation_memo.set(None)


def bump_sections_generation() -> None:
    forget_generation_memo()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)


GENERATION_KEY = "tenants:sections:generation"


def visitable_sections(user: Any) -> list[Section]:
    """Sections `user` may visit (archived ones only for admins and auditors), for the home page and switcher.

    Cached by the user's groups and the sections generation, so the header's section switcher costs no queries
    on a warm page.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    everything = reads_everything(user)
    group_ids = sorted(_user_group_ids(user))
    key = f"tenants:visitable:{sections_generation()}:{int(everything)}:{'.'.join(map(str, group_ids))}"
    return versioned_get(key, lambda: _visitable(everything, group_ids), ACCESS_TIMEOUT)


def _visitable(everything: bool, group_ids: list[int]) -> list[Section]:
    sections = list(Section.objects.all() if everything else Section.objects.live())
    if not everything:
        roles: dict[int, set[int]] = {}
        restricted: set[int] = set()
        for section_id, role, group_id in SectionRole.objects.all_sections().values_list(
            "section_id", "role", "group_id"
        ):
            roles.setdefault(section_id, set()).add(group_id)
            if role == SectionRoleKind.VIEWER:
                restricted.add(section_id)
        mine = set(group_ids)
        sections = [s for s in sections if s.pk not in restricted or roles.get(s.pk, set()) & mine]
    return sections


def edits_any_section(user: Any) -> bool:
    """Is the user an editor of at least one section? (Cached by groups and the sections generation.)"""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    key = f"tenants:editor-groups:{sections_generation()}"
    editor_groups = versioned_get(
        key,
        lambda: frozenset(
            SectionRole.objects.all_sections().filter(role=SectionRoleKind.EDITOR).values_list("group_id", flat=True)
        ),
        ACCESS_TIMEOUT,
    )
    return bool(editor_groups & _user_group_ids(user))
