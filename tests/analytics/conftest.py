"""Fixtures for the analytics tests: analytics switched on (it is off by default under ATRIUM_ENV=test), an empty
buffer before and after each test, the API fixtures (demo users, tokens, clients), and helpers that build page
views as the middleware would."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from constance import config
from django.contrib.auth import get_user_model
from django.test import Client

from analytics import buffer
from analytics.models import PageView
from analytics.tracking import forget_opt_outs, pseudonym_for
from core.live import forget_live_settings
from tenants.models import Section
from tests.api.conftest import assert_problem, bearer, token_for, user  # noqa: F401 - fixtures, shared


@pytest.fixture(autouse=True)
def analytics_on(settings: Any) -> Iterator[None]:
    settings.ANALYTICS_ENABLED = True
    # Large and slow: nothing is written unless a test flushes (or lowers these on purpose).
    settings.ANALYTICS_BUFFER_SIZE = 1000
    settings.ANALYTICS_FLUSH_SECONDS = 3600
    buffer.discard()
    forget_opt_outs()
    yield
    buffer.discard()
    forget_opt_outs()


def live(**values: Any) -> None:
    """Set live settings for this test (rolled back with its transaction) and drop the per-process memo."""
    for name, value in values.items():
        setattr(config, name, value)
    forget_live_settings()


@pytest.fixture
def browser_client(user: Callable[[str], Any]) -> Callable[[str], Client]:  # noqa: F811 - the imported fixture
    """A client signed in as a demo user that enforces CSRF checks, as a browser's session would."""

    def _client(username: str) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user(username), backend="accounts.backends.MockDirectoryBackend")
        return client

    return _client


def view(
    username: str | None,
    path: str,
    started: datetime,
    *,
    section: str | None = None,
    duration_ms: int | None = None,
    visitor: str = "",
) -> PageView:
    """A stored page view, as the middleware records it (a pseudonym always; the user while not pseudonymised)."""
    account = get_user_model().objects.get(username=username) if username else None
    return PageView.objects.create(
        public_id=uuid.uuid4(),
        user=account,
        pseudonym=pseudonym_for(account.pk) if account else visitor,
        section=Section.objects.get(slug=section) if section else None,
        route_name="tenants:page",
        path=path,
        started=started,
        response_ms=12,
        status=200,
        duration_ms=duration_ms,
    )
