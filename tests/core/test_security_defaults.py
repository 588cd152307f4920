"""Security defaults every page has: a strict CSP with no inline script, CSRF on forms, safe cookies."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/", "/accounts/login/", "/finance/", "/engineering/", "/admin/", "/admin/tenants/page/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_csp_without_unsafe_inline_scripts_and_contain_none(demo, sign_in, path):
    client = Client() if path == "/accounts/login/" else sign_in("fiona")
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src and "'unsafe-inline'" not in script_src.group(1)
    assert "frame-ancestors 'none'" in policy
    html = response.content.decode()
    inline = [s for s in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html) if "application/json" not in s]
    assert inline == [], f"inline <script> on {path}: {inline}"


def test_forms_need_a_csrf_token(demo):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
    assert response.status_code == 403


def test_session_and_csrf_cookies_are_http_only(demo, sign_in):
    client = Client()
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
    session_cookie = response.cookies["atrium_session"]
    assert session_cookie["httponly"] and session_cookie["samesite"] == "Lax"


def test_session_key_is_rotated_at_sign_in(demo):
    client = Client()
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    client.post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
    assert client.session.session_key != before


def test_favicon_ico_redirects_to_the_bundled_icon(client: Client) -> None:
    """Browsers request /favicon.ico on API JSON and downloads; it must not be a 404 in the logs and console."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("core/img/favicon.svg")
