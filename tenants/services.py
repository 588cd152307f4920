"""Every write to sections, section roles and pages goes through these functions.

Each one runs in a Galera-safe transaction (`run_in_transaction`), records the acting user and the reason on
the history row, and bumps the section's configuration version so cached menus and pages are rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from core.services import delete_with_history, run_in_transaction, save_with_history

from .lookups import forget_section
from .models import Page, Section, SectionRole, SectionRoleKind, SectionStatus
from .permissions import CHANGE_PERMISSION, VIEW_PERMISSION, bump_sections_generation
from .signals import section_onboarded
from .slugs import validate_section_slug

ROLE_PERMISSIONS = {
    SectionRoleKind.EDITOR: (CHANGE_PERMISSION, VIEW_PERMISSION),
    SectionRoleKind.VIEWER: (VIEW_PERMISSION,),
}


def bump_config_version(section: Section) -> None:
    """Invalidate every cache entry of the section by moving its configuration version on."""
    Section.objects.filter(pk=section.pk).update(config_version=F("config_version") + 1)
    # Forget now, and again after commit: a request that re-cached the old row in between must not keep it.
    forget_section(section)
    bump_sections_generation()
    transaction.on_commit(lambda: _forget_after_commit(section))


def _forget_after_commit(section: Section) -> None:
    forget_section(section)
    bump_sections_generation()


def save_section(section: Section, *, actor: Any, reason: str) -> Section:
    """Create or change a section's settings."""

    def work() -> Section:
        previous = Section.objects.filter(pk=section.pk).values("slug", "hostname").first() if section.pk else None
        save_with_history(section, actor=actor, reason=reason)
        bump_config_version(section)
        if previous:
            transaction.on_commit(
                lambda: forget_section(section, old_slug=previous["slug"], old_hostname=previous["hostname"])
            )
        return section

    return run_in_transaction(work)


def save_in_section(instance: models.Model, *, actor: Any, reason: str) -> models.Model:
    """Create or change any section-scoped configuration row."""

    def work() -> models.Model:
        save_with_history(instance, actor=actor, reason=reason)
        bump_config_version(instance.section)  # type: ignore[attr-defined]
        return instance

    return run_in_transaction(work)


def delete_in_section(instance: models.Model, *, actor: Any, reason: str) -> None:
    """Delete any section-scoped configuration row (section roles: use `revoke_section_role`)."""

    def work() -> None:
        section = instance.section  # type: ignore[attr-defined]
        delete_with_history(instance, actor=actor, reason=reason)
        bump_config_version(section)

    run_in_transaction(work)


def grant_section_role(section: Section, group: Group, role: str, *, actor: Any, reason: str) -> SectionRole:
    """Give a group a role in a section (idempotent) and the object permissions that go with it."""

    def work() -> SectionRole:
        existing = SectionRole.objects.all_sections().filter(section=section, group=group, role=role).first()
        if existing:
            _assign_role_permissions(existing)
            return existing
        section_role = SectionRole(section=section, group=group, role=role)
        save_with_history(section_role, actor=actor, reason=reason)
        _assign_role_permissions(section_role)
        bump_config_version(section)
        return section_role

    return run_in_transaction(work)


def save_section_role(section_role: SectionRole, *, actor: Any, reason: str) -> SectionRole:
    """Change a role row (from the admin): the permissions follow the row's new group, role or section."""

    def work() -> SectionRole:
        if section_role.pk:
            before = SectionRole.objects.all_sections().get(pk=section_role.pk)
            _remove_role_permissions(before)
            if before.section_id != section_role.section_id:
                bump_config_version(before.section)
        save_with_history(section_role, actor=actor, reason=reason)
        _assign_role_permissions(section_role)
        bump_config_version(section_role.section)
        return section_role

    return run_in_transaction(work)


def revoke_section_role(section_role: SectionRole, *, actor: Any, reason: str) -> None:
    """Take a group's role away, with its object permissions."""

    def work() -> None:
        _remove_role_permissions(section_role)
        delete_with_history(section_role, actor=actor, reason=reason)
        bump_config_version(section_role.section)

    run_in_transaction(work)


def _assign_role_permissions(section_role: SectionRole) -> None:
    for perm in ROLE_PERMISSIONS[SectionRoleKind(section_role.role)]:
        assign_perm(perm, section_role.group, section_role.section)


def _remove_role_permissions(section_role: SectionRole) -> None:
    # Editors also hold view; keep view if the group is still a viewer through another row.
    still_viewer = (
        SectionRole.objects.all_sections()
        .filter(section=section_role.section, group=section_role.group)
        .exclude(pk=section_role.pk)
        .exists()
    )
    for perm in ROLE_PERMISSIONS[SectionRoleKind(section_role.role)]:
        if perm == VIEW_PERMISSION and still_viewer:
            continue
        remove_perm(perm, section_role.group, section_role.section)


def save_page(page: Page, *, actor: Any, reason: str) -> Page:
    """Create or change a section page."""
    save_in_section(page, actor=actor, reason=reason)
    return page


class OnboardingError(ValueError):
    """The section cannot be onboarded as asked; the message says why."""


@dataclass(frozen=True)
class OnboardingResult:
    section: Section
    created: bool

    @property
    def summary(self) -> str:
        verb = "Onboarded" if self.created else "Already onboarded:"
        return f"{verb} section “{self.section.name}” at /{self.section.slug}/."


STARTER_HOME_BODY = (
    "Welcome to {name}.\n\n"
    "This is the section's home page. Its editors can change this text, add pages and build the menu in the admin."
)


def onboard_section(
    *,
    slug: str,
    name: str,
    editors_group: str,
    viewers_group: str | None = None,
    description: str = "",
    actor: Any = None,
    reason: str | None = None,
) -> OnboardingResult:
    """Create a section with its roles, a starter home page and starter navigation, in one step.

    Re-running with the same slug and name changes nothing and reports "already onboarded"; a reserved slug,
    a malformed one, or one that another section already uses is refused with a message saying so.
    """
    slug = (slug or "").strip()
    name = (name or "").strip()
    editors_group = (editors_group or "").strip()
    viewers_group = (viewers_group or "").strip() or None
    if not name:
        raise OnboardingError("A section needs a name.")
    if not editors_group:
        raise OnboardingError("A section needs an editors group (the directory group whose members may edit it).")
    try:
        validate_section_slug(slug)
    except ValidationError as exc:
        raise OnboardingError(f"Slug “{slug}”: {' '.join(exc.messages)}") from exc
    reason = reason or f"Onboarded section {slug}"

    def work() -> OnboardingResult:
        existing = Section.objects.filter(slug=slug).first()
        if existing and existing.name != name:
            raise OnboardingError(f"The slug “{slug}” is already taken by the section “{existing.name}”.")
        created = existing is None
        section = existing or Section(slug=slug, name=name, description=description)
        if created:
            section.status = SectionStatus.ACTIVE
            section.onboarded_by = actor if getattr(actor, "is_authenticated", False) else None
            section.onboarded_at = timezone.now()
            save_with_history(section, actor=actor, reason=reason)
        editors, _ = Group.objects.get_or_create(name=editors_group)
        grant_section_role(section, editors, SectionRoleKind.EDITOR, actor=actor, reason=reason)
        if viewers_group:
            viewers, _ = Group.objects.get_or_create(name=viewers_group)
            grant_section_role(section, viewers, SectionRoleKind.VIEWER, actor=actor, reason=reason)
        if not Page.objects.all_sections().filter(section=section, slug="home").exists():
            home = Page(section=section, slug="home", title=name, body=STARTER_HOME_BODY.format(name=name))
            save_with_history(home, actor=actor, reason=reason)
        if created:
            section_onboarded.send(sender=Section, section=section, actor=actor, reason=reason)
        bump_config_version(section)
        return OnboardingResult(section=section, created=created)

    return run_in_transaction(work)
