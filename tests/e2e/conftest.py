"""Browser tests: headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Every page a test visits is checked for console errors and Content-Security-Policy violations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import need_server

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are still
# synchronous and safe, so allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# One browser per test module, not per session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is started, and code that checks for a running loop (django-constance returns awaitable
# proxies then) would misbehave in every later test of the same worker process.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements/test.txt
        executable = None
    need_server("Chromium (with Playwright)", executable is not None)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class PageProblems(list):
    """Console errors and CSP violations seen on a page."""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    problems = PageProblems()
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    # The console says only "Failed to load resource: 404"; this names the URL that failed.
    tab.on(
        "response",
        lambda response: (
            problems.append(
                f"Failed to load resource: the server responded with a status of {response.status} ({response.url})"
            )
            if response.status >= 400
            else None
        ),
    )
    tab.problems = problems
    yield tab
    context.close()


def assert_no_page_problems(page: Any, allowed: tuple[str, ...] = ()) -> None:
    """No console errors and no CSP violations (Chromium reports both on the console)."""
    problems = [p for p in page.problems if not any(a in p for a in allowed)]
    assert problems == [], f"console errors or CSP violations: {problems}"
