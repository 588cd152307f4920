"""Fixtures for the feedback tests: the API fixtures (demo users, tokens, clients), images, and a private
MEDIA_ROOT so stored screenshots never land in var/."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tests.api.conftest import assert_problem, bearer, token_for, user  # noqa: F401 - fixtures, shared

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(width: int = 64, height: int = 40, fmt: str = "PNG") -> bytes:
    """A small two-colour image (a block of red on white) in `fmt`."""
    image = Image.new("RGB", (width, height), "white")
    image.paste((200, 0, 0), (0, 0, width // 2, height // 2))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def browser_client(user: Callable[[str], Any]) -> Callable[[str], Client]:  # noqa: F811 - the imported fixture
    """A client signed in as a demo user that enforces CSRF checks, as a browser's session would."""

    def _client(username: str) -> Client:
        account = user(username)
        client = Client(enforce_csrf_checks=True)
        client.force_login(account, backend="accounts.backends.MockDirectoryBackend")
        return client

    return _client


def csrf_token(client: Client) -> str:
    """The CSRF token a page would carry in <meta name="csrf-token">."""
    response = client.get("/feedback/mine/")
    assert response.status_code == 200
    return str(response.context["csrf_token"])
