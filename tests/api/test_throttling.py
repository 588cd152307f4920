"""Rate limits: per token and per user, stricter for writes and ingestion, 429 with Retry-After and a problem body.

The rates are per day here, so a window boundary cannot fall between two calls of a test and reset its count.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from tenants.models import Section

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

UNLIMITED = {"read": "", "write": "", "ingest": "", "user": ""}


def assert_throttled(response) -> None:
    body = assert_problem(response, 429)
    assert body["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 86400


@override_settings(API_THROTTLE_RATES={**UNLIMITED, "read": "2/day"})
def test_reads_beyond_the_rate_get_429_with_retry_after(token_for, bearer):
    client = bearer(token_for("fiona"))
    assert client.get("/api/v1/sections/").status_code == 200
    assert client.get("/api/v1/sections/").status_code == 200
    assert_throttled(client.get("/api/v1/sections/"))


@override_settings(API_THROTTLE_RATES={**UNLIMITED, "read": "5/day", "write": "1/day"})
def test_writes_have_their_own_stricter_rate(token_for, bearer):
    client = bearer(token_for("fiona", scope="write"))
    finance = Section.objects.get(slug="finance")
    assert client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "one"}).status_code == 200
    assert_throttled(client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "two"}))
    # Reading is counted apart, so a client that hit the write limit can still read.
    assert client.get(f"/api/v1/sections/{finance.pk}/").json()["description"] == "one"


@override_settings(API_THROTTLE_RATES={**UNLIMITED, "read": "100/day", "user": "3/day"})
def test_more_tokens_do_not_buy_a_user_more_calls(token_for, bearer):
    first, second = bearer(token_for("fiona")), bearer(token_for("fiona"))
    assert first.get("/api/v1/sections/").status_code == 200
    assert second.get("/api/v1/sections/").status_code == 200
    assert first.get("/api/v1/sections/").status_code == 200
    assert_throttled(second.get("/api/v1/sections/"))


@override_settings(API_THROTTLE_RATES={**UNLIMITED, "read": "1/day"})
def test_one_callers_limit_does_not_stop_another(token_for, bearer):
    fiona, hana = bearer(token_for("fiona")), bearer(token_for("hana"))
    assert fiona.get("/api/v1/sections/").status_code == 200
    assert_throttled(fiona.get("/api/v1/sections/"))
    assert hana.get("/api/v1/sections/").status_code == 200


@override_settings(API_THROTTLE_RATES={**UNLIMITED, "read": "1/day"})
def test_each_token_of_a_user_has_its_own_bucket(token_for, bearer):
    first, second = bearer(token_for("fiona")), bearer(token_for("fiona"))
    assert first.get("/api/v1/sections/").status_code == 200
    assert_throttled(first.get("/api/v1/sections/"))
    assert second.get("/api/v1/sections/").status_code == 200


@pytest.mark.urls("tests.api.urls")
@override_settings(API_THROTTLE_RATES={**UNLIMITED, "write": "100/day", "ingest": "1/day"})
def test_ingestion_endpoints_have_their_own_rate(token_for, bearer):
    client = bearer(token_for("fiona", scope="write"))
    assert client.post("/api/test/ingest/", {"rows": []}).status_code == 202
    assert_throttled(client.post("/api/test/ingest/", {"rows": []}))
    finance = Section.objects.get(slug="finance")
    assert client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "still writable"}).status_code == 200
