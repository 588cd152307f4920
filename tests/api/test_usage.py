"""The usage audit: every API call recorded (who, token, endpoint, status, duration), kept for the retention
period, measured per endpoint, and shown to admins and auditors on a page and through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from api.models import ApiUsage
from audit.retention import purge, select_policies
from tenants.models import Section

from .conftest import assert_problem, expire, token_row

pytestmark = pytest.mark.django_db


def test_a_call_is_recorded_with_user_token_endpoint_status_and_duration(token_for, bearer):
    plaintext = token_for("fiona")
    finance = Section.objects.get(slug="finance")
    assert bearer(plaintext).get(f"/api/v1/sections/{finance.pk}/").status_code == 200
    call = ApiUsage.objects.get()
    assert call.username == "fiona" and call.user.username == "fiona"
    assert call.token == token_row(plaintext) and call.token_prefix == plaintext[4:12]
    assert (call.method, call.route, call.path) == (
        "GET",
        "/api/v1/sections/<int:pk>/",
        f"/api/v1/sections/{finance.pk}/",
    )
    assert call.view_name == "api:section-detail"
    assert call.status == 200 and call.duration_ms >= 0
    assert call.ip_address == "127.0.0.1" and call.request_id


def test_refused_calls_are_recorded_too(token_for, bearer):
    plaintext = token_for("fiona")
    expire(plaintext)
    bearer(plaintext).get("/api/v1/sections/")
    call = ApiUsage.objects.get()
    assert call.status == 401 and call.username == "" and call.token is None


def test_a_failure_to_record_usage_does_not_fail_the_call(token_for, bearer, monkeypatch, caplog):
    client = bearer(token_for("fiona"))

    def broken_save(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ApiUsage, "save", broken_save)
    assert client.get("/api/v1/sections/").status_code == 200
    assert "Could not record API usage" in caplog.text


def test_calls_are_counted_per_endpoint_in_the_metrics(token_for, bearer):
    labels = {"method": "GET", "route": "/api/v1/sections/", "status": "200"}
    before = REGISTRY.get_sample_value("atrium_api_requests_total", labels) or 0
    client = bearer(token_for("fiona"))
    client.get("/api/v1/sections/")
    client.get("/api/v1/sections/")
    assert REGISTRY.get_sample_value("atrium_api_requests_total", labels) == before + 2
    durations = {"method": "GET", "route": "/api/v1/sections/"}
    assert REGISTRY.get_sample_value("atrium_api_request_duration_seconds_count", durations) >= 2


def test_usage_is_purged_after_the_retention_period(db):
    [policy] = select_policies(["api-usage"])
    assert policy.setting == "API_USAGE_RETENTION_DAYS"
    now = timezone.now()
    common = {"method": "GET", "route": "/api/v1/sections/", "path": "/api/v1/sections/", "status": 200}
    old = ApiUsage.objects.create(at=now - timedelta(days=181), duration_ms=5, **common)
    recent = ApiUsage.objects.create(at=now - timedelta(days=179), duration_ms=5, **common)
    result = purge(policy, now=now)
    assert result.deleted == 1
    assert list(ApiUsage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ApiUsage.objects.filter(pk=old.pk).exists()


def _some_calls(token_for, bearer) -> None:
    bearer(token_for("fiona")).get("/api/v1/sections/")
    hana = bearer(token_for("hana"))
    hana.get("/api/v1/sections/")
    hana.get("/api/v1/sections/999999/")


def test_admins_see_recent_calls_on_the_usage_page_and_filter_them(token_for, bearer, sign_in):
    _some_calls(token_for, bearer)
    admin = sign_in("admin")
    page = admin.get("/api/usage/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "fiona" in text and "hana" in text and "/api/v1/sections/&lt;int:pk&gt;/" in text
    only_errors = admin.get("/api/usage/", {"status": "4xx"}).content.decode()
    assert "/api/v1/sections/999999/" in only_errors and "<td>fiona</td>" not in only_errors
    only_fiona = admin.get("/api/usage/", {"user": "fiona"}).content.decode()
    assert "<td>fiona</td>" in only_fiona and "<td>hana</td>" not in only_fiona
    assert admin.get("/api/usage/", {"status": "teapot"}).status_code == 400


def test_the_usage_page_is_only_for_admins_and_auditors(token_for, bearer, sign_in, user):
    user("audrey")
    assert sign_in("audrey").get("/api/usage/").status_code == 200
    user("fiona")
    assert_problem(sign_in("fiona").get("/api/usage/"), 404)
    assert sign_in("admin").post("/api/usage/").status_code == 405


def test_admins_and_auditors_read_usage_through_the_api_and_others_cannot(token_for, bearer):
    _some_calls(token_for, bearer)
    audrey = bearer(token_for("audrey"))
    calls = audrey.get("/api/v1/usage/?user=hana&status=404").json()["results"]
    assert [(c["username"], c["status"], c["route"]) for c in calls] == [("hana", 404, "/api/v1/sections/<int:pk>/")]
    assert_problem(bearer(token_for("fiona")).get("/api/v1/usage/"), 403)


def test_admins_find_the_usage_page_in_their_user_menu(user, sign_in):
    user("admin")
    assert 'href="/api/usage/"' in sign_in("admin").get("/api/usage/").content.decode()


@pytest.mark.parametrize(
    "route", ["/api/v1/", "/api/v1/sections/", "/api/v1/section-roles/", "/api/v1/tokens/", "/api/v1/security-events/"]
)
def test_every_endpoint_is_audited(token_for, bearer, route):
    assert bearer(token_for("admin")).get(route).status_code == 200
    assert ApiUsage.objects.filter(route=route, status=200, username="admin").count() == 1
