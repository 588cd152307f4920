"""The auditor audrey reads everything and writes nothing: every write URL answers 403 or 405 and changes nothing.

The URLs are found by walking the URL configuration and the admin registry, not listed by hand, so a write
endpoint added later is covered the day it appears.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from audit.models import Alert, AlertRule
from audit.queries import history_models
from tenants.models import Page, Section

pytestmark = pytest.mark.django_db

TABLES = (Section, Page, AlertRule, Alert)


def _audit_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _audit_patterns(entry, namespace)
        elif prefix.startswith("audit:") and entry.name:
            yield f"{prefix}{entry.name}", entry


def _kwargs(pattern: URLPattern, page: Page, alert: Alert) -> dict[str, Any]:
    """Real values for a route's parameters: the finance month-end page, an alert, a CSV export."""
    values = {
        "slug": "finance",
        "app_label": "tenants",
        "model_name": "page",
        "pk": page.pk,
        "fmt": "csv",
        "username": "fiona",
        "alert_id": alert.pk,
    }
    return {name: values[name] for name in pattern.pattern.converters}


def _table_rows() -> dict[str, int]:
    rows = {model.__name__: model._base_manager.count() for model in TABLES}
    rows |= {hm.key: hm.history_model._default_manager.count() for hm in history_models()}
    return rows


def _an_alert() -> Alert:
    from django.utils import timezone

    now = timezone.now()
    rule = AlertRule.objects.order_by("pk").first()
    assert rule is not None, "the default alert rules are installed by a migration"
    return Alert.objects.create(rule=rule, subject="mallory", summary="test", first_event_at=now, last_event_at=now)


def test_every_audit_url_refuses_the_auditor_s_writes(demo: None, sign_in: Any) -> None:
    audrey = sign_in("audrey")
    page = Page.objects.all_sections().get(section__slug="finance", slug="month-end")
    alert = _an_alert()
    before = _table_rows()
    checked = []
    for name, pattern in _audit_patterns():
        url = reverse(name, kwargs=_kwargs(pattern, page, alert))
        data = {"reason": "audit sweep", "version": 1, "at": "2026-01-01T00:00:00", "note": "x"}
        for method in ("post", "put", "delete"):
            response = getattr(audrey, method)(url, data) if method == "post" else getattr(audrey, method)(url)
            assert response.status_code in (403, 405), f"{method.upper()} {url} answered {response.status_code}"
        checked.append(name)
    assert {"audit:section-revert", "audit:object-revert", "audit:alert-acknowledge"} <= set(checked)
    assert _table_rows() == before  # nothing was written, not even a history row
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_every_admin_write_is_refused_to_the_auditor(demo: None, sign_in: Any) -> None:
    audrey = sign_in("audrey")
    before = _table_rows()
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if not hasattr(model, "_base_manager"):
            # django-constance's live settings: one form on the changelist page, no rows of its own.
            changed = audrey.post(reverse(f"{prefix}_changelist"), {"SUPPORT_EMAIL": "evil@example.com"})
            assert changed.status_code == 403, f"changing live settings answered {changed.status_code}"
            continue
        add = audrey.post(reverse(f"{prefix}_add"), {"change_reason": "audit sweep"})
        assert add.status_code == 403, f"adding a {model.__name__} answered {add.status_code}"
        obj = model._base_manager.order_by("pk").first()
        if obj is None:
            continue
        for view in ("change", "delete"):
            response = audrey.post(reverse(f"{prefix}_{view}", args=[obj.pk]), {"post": "yes"})
            assert response.status_code == 403, f"{view} of a {model.__name__} answered {response.status_code}"
        assert not model_admin.has_change_permission(_request_for(audrey), obj)
    bundle_import = audrey.post("/admin/tenants/section/import-bundle/", {"bundle": "{}"})
    assert bundle_import.status_code == 403
    assert _table_rows() == before


def _request_for(client: Any) -> Any:
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(username="audrey")
    return request
