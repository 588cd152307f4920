"""Every API error is RFC 9457 problem details, whether DRF or Django produced it; pages keep their HTML errors."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import SecurityEvent
from core.security import EventType
from tenants.models import Section, SectionRole

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def test_an_unknown_api_address_is_a_404_problem(demo):
    body = assert_problem(Client().get("/api/v1/no-such-endpoint/"), 404)
    assert body["code"] == "not_found" and body["request_id"]


def test_a_missing_object_is_a_404_problem(token_for, bearer):
    body = assert_problem(bearer(token_for("admin")).get("/api/v1/sections/999999/"), 404)
    assert body["code"] == "not_found"


def test_a_method_the_endpoint_does_not_have_is_a_405_problem(token_for, bearer):
    finance = Section.objects.get(slug="finance")
    body = assert_problem(bearer(token_for("admin", scope="write")).delete(f"/api/v1/sections/{finance.pk}/"), 405)
    assert body["code"] == "method_not_allowed"
    assert Section.objects.filter(pk=finance.pk).exists()


@pytest.mark.urls("tests.api.urls")
def test_a_bug_in_an_api_view_is_a_500_problem_without_the_traceback(token_for, bearer):
    client = bearer(token_for("fiona"))
    client.raise_request_exception = False
    body = assert_problem(client.get("/api/test/boom/"), 500)
    assert body["code"] == "server_error" and body["request_id"]
    assert "a bug in an API view" not in body["detail"] and "Traceback" not in str(body)


@pytest.mark.urls("tests.api.urls")
def test_a_lost_database_connection_is_a_503_to_retry_not_a_500(token_for, bearer, sign_in):
    """A Galera node dying under HAProxy: nginx passes a 503 page on to the other instance; API clients retry."""
    client = bearer(token_for("fiona"))
    client.raise_request_exception = False
    response = client.get("/api/test/database-gone/")
    body = assert_problem(response, 503)
    assert body["code"] == "database_unavailable" and response["Retry-After"] == "1"

    page = sign_in("fiona")
    page.raise_request_exception = False
    lost = page.get("/test/database-gone/")
    assert lost.status_code == 503 and lost["Retry-After"] == "1"
    other = page.get("/test/database-error/")  # any other database error is a bug: a 500, not "retry"
    assert other.status_code == 500 and "Retry-After" not in other


@pytest.mark.urls("tests.api.urls")
def test_djangos_own_403_under_api_is_a_problem_and_a_security_event(user, sign_in):
    user("fiona")
    body = assert_problem(sign_in("fiona").get("/api/test/forbidden/"), 403)
    assert body["code"] == "permission_denied"
    assert SecurityEvent.objects.filter(event_type=EventType.PERMISSION_DENIED, path="/api/test/forbidden/").exists()


def test_pages_outside_the_api_keep_their_html_error_pages(demo):
    response = Client().get("/no-such-team/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_validation_errors_name_every_invalid_field(token_for, bearer):
    finance = Section.objects.get(slug="finance")
    response = bearer(token_for("fiona", scope="write")).post(
        "/api/v1/section-roles/", {"section": finance.pk, "role": "owner"}
    )
    body = assert_problem(response, 400)
    params = {p["name"]: p for p in body["invalid_params"]}
    assert set(params) == {"group", "role"}
    assert params["group"]["code"] == "required"
    assert "owner" in params["role"]["reason"]
    assert "group" in body["detail"] and "role" in body["detail"]


def test_a_body_that_is_not_json_is_a_400_problem(token_for, bearer):
    response = bearer(token_for("fiona", scope="write")).generic(
        "POST", "/api/v1/section-roles/", "{not json", content_type="application/json"
    )
    assert assert_problem(response, 400)["code"] == "parse_error"


def _session_client_with_csrf(username: str) -> Client:
    """A browser-like client: CSRF is enforced, and it signs in through the real form with the CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["atrium_csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": username, "password": "atrium-demo", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    return client


def test_a_session_write_without_the_csrf_token_is_a_403_problem(demo):
    client = _session_client_with_csrf("fiona")
    finance = Section.objects.get(slug="finance")
    payload = {"section": finance.pk, "group": "hr-staff", "role": "viewer"}
    body = assert_problem(client.post("/api/v1/section-roles/", payload, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]
    assert not SectionRole.objects.all_sections().filter(section=finance, group__name="hr-staff").exists()
    # The same call with the token the page carries goes through: the session works for the browser.
    csrf = client.cookies["atrium_csrftoken"].value
    response = client.post(
        "/api/v1/section-roles/", payload, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 201, response.content
    assert client.get("/api/v1/sections/").status_code == 200
