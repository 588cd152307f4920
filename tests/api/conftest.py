"""Fixtures for the API tests: demo users (created by a real sign-in), their tokens, and API clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import create_token
from tenants.models import Section

PROBLEM = "application/problem+json"


@pytest.fixture
def user(demo: None, sign_in: Callable[[str], Any]) -> Callable[[str], Any]:
    """A demo user, signed in once through the mock directory so their account and groups exist."""

    def _user(username: str) -> Any:
        sign_in(username)
        return get_user_model().objects.get(username=username)

    return _user


@pytest.fixture
def token_for(user: Callable[[str], Any]) -> Callable[..., str]:
    """The plaintext of a new token for a demo user; `section` may be a slug."""

    def _token(username: str, *, section: str | None = None, **options: Any) -> str:
        restricted = Section.objects.get(slug=section) if section else None
        return create_token(user(username), name=f"{username} test token", section=restricted, **options).plaintext

    return _token


@pytest.fixture
def bearer() -> Callable[..., APIClient]:
    """An API client that sends `Authorization: Bearer <token>` (and REMOTE_ADDR, when given)."""

    def _client(token: str, **defaults: Any) -> APIClient:
        client = APIClient(**defaults)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return _client


def token_row(plaintext: str) -> ApiToken:
    """The stored row of a plaintext token (by its prefix, as authentication finds it)."""
    return ApiToken.objects.get(prefix=plaintext[4:12])


def expire(plaintext: str) -> None:
    ApiToken.objects.filter(pk=token_row(plaintext).pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with `status`; its body is returned for further checks."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert body["instance"] == response.wsgi_request.path
    return body
