"""The OpenAPI 3 schema and its documentation pages: valid, described, and served without any CDN."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(user, sign_in) -> Client:
    user("admin")
    return sign_in("admin")


def test_the_schema_is_valid_openapi_3(admin_client):
    response = admin_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # raises on anything that is not OpenAPI 3
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/sections/", "/api/v1/section-roles/", "/api/v1/tokens/", "/api/v1/usage/"} <= set(schema["paths"])


def test_the_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_every_operation_has_a_summary_a_description_and_problem_errors(admin_client):
    schema = admin_client.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary") and operation.get("description"), where
            for code in ("401", "403", "429"):
                content = operation["responses"][code]["content"]
                assert list(content) == ["application/problem+json"], where
    assert set(schema["components"]["securitySchemes"]) == {"bearerToken", "cookieAuth"}


def test_the_schema_needs_a_signed_in_caller(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_load_everything_from_static_without_a_cdn(admin_client, page):
    response = admin_client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = _assets(html)
    assert any(a.endswith(".js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    assert "<script>" not in html and "<style" not in html  # nothing inline: the CSP forbids it
    assert not re.search(r"https?://", html)
    for asset in assets:
        assert admin_client.get(asset).status_code == 200, asset


def _directive(policy: str, name: str) -> str:
    return next(d.strip() for d in policy.split(";") if d.strip().startswith(name + " "))


def test_only_redoc_may_inject_styles_and_no_page_may_run_inline_scripts(admin_client):
    redoc = admin_client.get("/api/redoc/")["Content-Security-Policy"]
    assert _directive(redoc, "style-src") == "style-src 'self' 'unsafe-inline'"
    assert _directive(redoc, "script-src") == "script-src 'self'"
    swagger = admin_client.get("/api/docs/")["Content-Security-Policy"]
    assert _directive(swagger, "style-src") == "style-src 'self'"
    assert _directive(swagger, "script-src") == "script-src 'self'"


def test_the_documentation_pages_send_visitors_to_the_sign_in_page(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
