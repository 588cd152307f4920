"""Cached look-ups of sections by slug and host name, used on every request by the section middleware.

The cached value is the Section row itself (with its configuration version); the services delete these keys
after every change, so every web instance sees the new version on its next request.
"""

from __future__ import annotations

from django.core.cache import cache

from .models import Section

LOOKUP_TIMEOUT = 300
_MISSING = "-"  # cached marker for "no such section", so unknown URLs do not hit the database each time


def slug_key(slug: str) -> str:
    return f"tenants:section:slug:{slug}"


def host_key(host: str) -> str:
    return f"tenants:section:host:{host}"


def section_by_slug(slug: str) -> Section | None:
    cached = cache.get(slug_key(slug))
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    section = Section.objects.filter(slug=slug).first()
    cache.set(slug_key(slug), section if section is not None else _MISSING, LOOKUP_TIMEOUT)
    return section


def section_by_host(host: str) -> Section | None:
    cached = cache.get(host_key(host))
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    section = Section.objects.filter(hostname=host).first()
    cache.set(host_key(host), section if section is not None else _MISSING, LOOKUP_TIMEOUT)
    return section


def forget_section(section: Section, *, old_slug: str | None = None, old_hostname: str | None = None) -> None:
    """Drop the cached look-ups for a section (after a change or a version bump)."""
    keys = [slug_key(section.slug)]
    if old_slug:
        keys.append(slug_key(old_slug))
    for host in (section.hostname, old_hostname):
        if host:
            keys.append(host_key(host))
    cache.delete_many(keys)
