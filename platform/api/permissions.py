"""Who may call what: the pages' rules (tenants.permissions), narrowed by the token the call was made with.

A token never lets its user do more than the user may do on the pages; it can only take away:
- scope `read`: safe methods only (403 on any write);
- a section: the token sees and changes that section and nothing else, not even platform-wide lists;
- IP ranges: checked at authentication (401 from any other address).
Auditors read everything and change nothing, whatever their token's scope.

Viewsets get their querysets from `api_readable_sections`/`api_editable_sections`, so another section's objects
are never found (404), and `ApiAccess` (the default permission class) guards every endpoint.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from tenants.models import Section
from tenants.permissions import (
    editable_sections,
    is_auditor,
    is_platform_admin,
    readable_sections,
    reads_everything,
)

from .authentication import token_of


def restrict_to_token(request: Any, sections: QuerySet[Section]) -> QuerySet[Section]:
    """`sections`, narrowed to the token's section when the call was made with a section-restricted token."""
    token = token_of(request)
    if token is not None and token.section_id is not None:
        return sections.filter(pk=token.section_id)
    return sections


def api_readable_sections(request: Any) -> QuerySet[Section]:
    """The sections whose configuration this call may read."""
    return restrict_to_token(request, readable_sections(request.user))


def api_editable_sections(request: Any) -> QuerySet[Section]:
    """The sections whose configuration this call may change (none for a read token or an auditor)."""
    if not may_write(request):
        return Section.objects.none()
    return restrict_to_token(request, editable_sections(request.user))


def may_write(request: Any) -> bool:
    """Does anything stop this caller from writing at all? (Auditors, read tokens.)"""
    token = token_of(request)
    if token is not None and not token.can_write:
        return False
    return not (is_auditor(request.user) and not is_platform_admin(request.user))


def is_section_restricted(request: Any) -> bool:
    token = token_of(request)
    return token is not None and token.section_id is not None


class ApiAccess(BasePermission):
    """The rules every endpoint shares; a view narrows them with two flags.

    `platform_wide = True`: the endpoint lists data of no single section (security events, API usage), so a
    section-restricted token may not use it. `personal = True`: the endpoint manages the caller's own things (their
    tokens), which auditors may do too; the token's scope still applies.
    """

    message = "You do not have permission to perform this action."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        token = token_of(request)
        if getattr(view, "platform_wide", False) and token is not None and token.section_id is not None:
            self.message = "This token is restricted to one section; this endpoint covers the whole platform."
            return False
        if request.method in SAFE_METHODS:
            return True
        if token is not None and not token.can_write:
            self.message = "This token has the read scope: it cannot change anything."
            return False
        if is_auditor(user) and not is_platform_admin(user) and not getattr(view, "personal", False):
            self.message = "Auditors can read everything through the API, but change nothing."
            return False
        return True

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        # The querysets already leave other sections out; this catches a view that forgot to, and answers as if the
        # object did not exist (404), never confirming it does.
        token = token_of(request)
        section_id = section_id_of(obj)
        if token is not None and token.section_id is not None and section_id not in (None, token.section_id):
            raise exceptions.NotFound()
        return True


class PlatformReaders(BasePermission):
    """Platform admins and auditors only (security events, API usage). The endpoints are in the published schema,
    so unlike the HTML pages (404) they answer 403: hiding them would only confuse a client."""

    message = "Only platform admins and auditors may read this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return reads_everything(request.user)


def section_id_of(obj: Any) -> int | None:
    """The id of the section an object belongs to (the section's own id for a Section), or None."""
    if isinstance(obj, Section):
        return obj.pk
    return getattr(obj, "section_id", None)
