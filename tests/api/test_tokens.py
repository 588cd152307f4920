"""Personal API tokens: created in the UI and the API, shown once, stored hashed, limited, revoked, refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, SecurityEvent
from accounts.tokens import hash_token
from core.security import EventType
from tenants.models import Section, SectionRole

from .conftest import assert_problem, expire, token_row

pytestmark = pytest.mark.django_db


def _create_in_ui(client, **fields):
    data = {"name": "budget export", "scope": "read", "expires_on": (timezone.localdate() + timedelta(days=30))}
    data.update(fields)
    return client.post("/accounts/tokens/", {k: v for k, v in data.items() if v is not None})


# ---------------------------------------------------------------------------------------------------------------
# Created, shown once, stored hashed
# ---------------------------------------------------------------------------------------------------------------
def test_token_created_in_the_ui_is_shown_once_and_only_its_hash_is_stored(user, sign_in):
    user("fiona")
    fiona = sign_in("fiona")
    response = _create_in_ui(fiona, name="nightly export")
    assert response.status_code == 200
    assert response["Cache-Control"].count("no-store")
    token = ApiToken.objects.get(user__username="fiona", name="nightly export")
    page = response.content.decode()
    start = page.index('value="atr_') + len('value="')
    plaintext = page[start : start + 52]
    assert plaintext.startswith(f"atr_{token.prefix}")
    assert token.secret_hash == hash_token(plaintext)
    assert plaintext not in {token.secret_hash, token.prefix, token.name}
    again = fiona.get("/accounts/tokens/").content.decode()
    assert plaintext not in again and f"atr_{token.prefix}…" in again
    assert SecurityEvent.objects.filter(event_type=EventType.TOKEN_CREATED, username="fiona").exists()


def test_token_from_the_ui_calls_the_api_and_its_last_use_is_recorded(user, sign_in, bearer):
    user("fiona")
    page = _create_in_ui(sign_in("fiona")).content.decode()
    start = page.index('value="atr_') + len('value="')
    plaintext = page[start : start + 52]
    response = bearer(plaintext).get("/api/v1/sections/")
    assert response.status_code == 200
    assert [s["slug"] for s in response.json()["results"]] == ["finance"]
    token = token_row(plaintext)
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"


def test_token_created_through_the_api_answers_the_secret_once(token_for, bearer):
    client = bearer(token_for("fiona", scope="write"))
    created = client.post("/api/v1/tokens/", {"name": "reporting", "scope": "read"})
    assert created.status_code == 201, created.content
    plaintext = created.json()["token"]
    assert created["Cache-Control"] == "no-store"
    assert bearer(plaintext).get("/api/v1/sections/").status_code == 200
    shown_again = client.get(f"/api/v1/tokens/{created.json()['id']}/").json()
    assert "token" not in shown_again and shown_again["prefix"] == f"atr_{plaintext[4:12]}…"
    assert token_row(plaintext).secret_hash == hash_token(plaintext)


def test_a_token_defaults_to_read_scope_and_ninety_days(token_for, bearer):
    created = bearer(token_for("fiona", scope="write")).post("/api/v1/tokens/", {"name": "defaults"}).json()
    token = ApiToken.objects.get(pk=created["id"])
    assert token.scope == "read"
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


def test_an_expiry_beyond_the_maximum_is_refused_on_its_field(token_for, bearer):
    too_late = (timezone.now() + timedelta(days=400)).isoformat()
    response = bearer(token_for("fiona", scope="write")).post(
        "/api/v1/tokens/", {"name": "forever", "expires_at": too_late}
    )
    body = assert_problem(response, 400)
    assert [p["name"] for p in body["invalid_params"]] == ["expires_at"]


def test_the_ui_refuses_bad_ip_ranges_and_a_past_expiry_with_field_errors(user, sign_in):
    user("fiona")
    response = _create_in_ui(
        sign_in("fiona"), allowed_ips="10.0.0.0/8, not-an-ip", expires_on=timezone.localdate() - timedelta(days=1)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "not-an-ip" in page and "Choose a day after today." in page
    assert not ApiToken.objects.exists()


def test_a_token_can_only_be_restricted_to_a_section_its_user_may_visit(user, sign_in):
    user("frank")  # finance staff: hr is closed to him
    hr = Section.objects.get(slug="hr")
    response = _create_in_ui(sign_in("frank"), section=hr.pk)
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


# ---------------------------------------------------------------------------------------------------------------
# Refused tokens: 401 problem details
# ---------------------------------------------------------------------------------------------------------------
def test_an_expired_token_gets_401_problem_details(token_for, bearer):
    plaintext = token_for("fiona")
    expire(plaintext)
    body = assert_problem(bearer(plaintext).get("/api/v1/sections/"), 401)
    assert "expired" in body["detail"] and body["code"] == "authentication_failed"


def test_a_revoked_token_gets_401_problem_details(token_for, bearer):
    plaintext = token_for("fiona", scope="write")
    client = bearer(plaintext)
    assert client.delete(f"/api/v1/tokens/{token_row(plaintext).pk}/").status_code == 204
    body = assert_problem(client.get("/api/v1/sections/"), 401)
    assert "revoked" in body["detail"]
    assert SecurityEvent.objects.filter(event_type=EventType.TOKEN_REVOKED, username="fiona").exists()


@pytest.mark.parametrize(
    "presented",
    ["atr_nosuchpr" + "x" * 40, "not-even-a-token", "atr_short"],
    ids=["unknown", "malformed", "truncated"],
)
def test_an_unknown_token_gets_401_with_a_bearer_challenge(demo, bearer, presented):
    response = bearer(presented).get("/api/v1/sections/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_with_a_real_prefix_is_refused_without_saying_more(token_for, bearer):
    plaintext = token_for("fiona")
    forged = plaintext[:12] + "A" * 40
    body = assert_problem(bearer(forged).get("/api/v1/sections/"), 401)
    assert body["detail"] == "The token is not valid."


def test_a_refused_token_is_a_failed_sign_in_in_the_security_events(token_for, bearer):
    plaintext = token_for("fiona")
    expire(plaintext)
    bearer(plaintext).get("/api/v1/sections/")
    event = SecurityEvent.objects.get(event_type=EventType.SIGN_IN_FAILED, method="token")
    assert event.username == "fiona" and event.reason == "expired token" and not event.success


def test_revoking_in_the_ui_stops_the_token_at_once(user, sign_in, token_for, bearer):
    plaintext = token_for("fiona")
    fiona = sign_in("fiona")
    response = fiona.post(f"/accounts/tokens/{token_row(plaintext).pk}/revoke/")
    assert response.status_code == 302
    assert token_row(plaintext).revoked_at is not None
    assert_problem(bearer(plaintext).get("/api/v1/sections/"), 401)


def test_nobody_sees_or_revokes_another_persons_token(token_for, sign_in, bearer):
    fionas = token_for("fiona")
    hanas = bearer(token_for("hana", scope="write"))
    pk = token_row(fionas).pk
    assert_problem(hanas.get(f"/api/v1/tokens/{pk}/"), 404)
    assert_problem(hanas.delete(f"/api/v1/tokens/{pk}/"), 404)
    assert sign_in("hana").post(f"/accounts/tokens/{pk}/revoke/").status_code == 404
    assert token_row(fionas).revoked_at is None


# ---------------------------------------------------------------------------------------------------------------
# What a token may do: scope, section, addresses
# ---------------------------------------------------------------------------------------------------------------
def test_a_read_token_cannot_write(token_for, bearer):
    client = bearer(token_for("fiona", scope="read"))
    finance = Section.objects.get(slug="finance")
    body = assert_problem(client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "changed"}), 403)
    assert "read scope" in body["detail"]
    finance.refresh_from_db()
    assert finance.description != "changed"
    assert SecurityEvent.objects.filter(event_type=EventType.PERMISSION_DENIED, method="token").exists()


def test_a_token_restricted_to_finance_cannot_read_or_write_hr_through_any_endpoint(token_for, bearer):
    # The admin may do everything; their finance-only token may not.
    client = bearer(token_for("admin", scope="write", section="finance"))
    hr = Section.objects.get(slug="hr")
    hr_role = SectionRole.objects.all_sections().filter(section=hr).first()
    assert [s["slug"] for s in client.get("/api/v1/sections/").json()["results"]] == ["finance"]
    assert {r["section_slug"] for r in client.get("/api/v1/section-roles/").json()["results"]} == {"finance"}
    assert_problem(client.get(f"/api/v1/sections/{hr.pk}/"), 404)
    assert_problem(client.patch(f"/api/v1/sections/{hr.pk}/", {"description": "x"}), 404)
    assert_problem(client.get(f"/api/v1/section-roles/{hr_role.pk}/"), 404)
    assert_problem(client.delete(f"/api/v1/section-roles/{hr_role.pk}/"), 404)
    granted = client.post("/api/v1/section-roles/", {"section": hr.pk, "group": "finance-staff", "role": "viewer"})
    assert granted.status_code in (400, 403, 404)
    assert not SectionRole.objects.all_sections().filter(section=hr, group__name="finance-staff").exists()
    # Platform-wide lists are not one section's: a restricted token cannot use them at all.
    assert_problem(client.get("/api/v1/security-events/"), 403)
    assert_problem(client.get("/api/v1/usage/"), 403)
    assert_problem(client.post("/api/v1/sections/", {"slug": "legal", "name": "Legal", "editors_group": "x"}), 403)


def test_an_ip_restricted_token_works_only_from_its_ranges(token_for, bearer):
    plaintext = token_for("fiona", allowed_ips="192.0.2.0/24, 2001:db8::/32")
    assert bearer(plaintext, REMOTE_ADDR="192.0.2.10").get("/api/v1/sections/").status_code == 200
    assert bearer(plaintext, REMOTE_ADDR="2001:db8::7").get("/api/v1/sections/").status_code == 200
    body = assert_problem(bearer(plaintext, REMOTE_ADDR="198.51.100.4").get("/api/v1/sections/"), 401)
    assert "198.51.100.4" in body["detail"]


def test_a_token_cannot_create_a_token_that_reaches_further_than_itself(token_for, bearer):
    restricted = bearer(
        token_for("fiona", scope="write", section="finance", allowed_ips="192.0.2.0/24"), REMOTE_ADDR="192.0.2.1"
    )
    wider = restricted.post("/api/v1/tokens/", {"name": "wider", "scope": "write"})
    names = {p["name"] for p in assert_problem(wider, 400)["invalid_params"]}
    assert names == {"section", "allowed_ips"}
    narrower = restricted.post(
        "/api/v1/tokens/",
        {
            "name": "narrower",
            "scope": "read",
            "section": Section.objects.get(slug="finance").pk,
            "allowed_ips": "192.0.2.128/25",
        },
    )
    assert narrower.status_code == 201, narrower.content


def test_a_token_cannot_outlive_the_token_that_creates_it(token_for, bearer):
    creator = token_for("fiona", scope="write", expires_at=timezone.now() + timedelta(days=10))
    later = (timezone.now() + timedelta(days=20)).isoformat()
    response = bearer(creator).post("/api/v1/tokens/", {"name": "later", "expires_at": later})
    assert [p["name"] for p in assert_problem(response, 400)["invalid_params"]] == ["expires_at"]


def test_an_auditor_manages_their_own_tokens_but_still_only_reads(token_for, bearer):
    client = bearer(token_for("audrey", scope="write"))
    created = client.post("/api/v1/tokens/", {"name": "audit script"})
    assert created.status_code == 201
    finance = Section.objects.get(slug="finance")
    assert_problem(client.patch(f"/api/v1/sections/{finance.pk}/", {"description": "x"}), 403)


def test_a_deactivated_user_s_token_stops_working(token_for, bearer):
    plaintext = token_for("fiona")
    token = token_row(plaintext)
    token.user.is_active = False
    token.user.save()
    assert_problem(bearer(plaintext).get("/api/v1/sections/"), 401)


def test_calls_without_any_credentials_get_401(demo):
    response = APIClient().get("/api/v1/sections/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# ---------------------------------------------------------------------------------------------------------------
# Operations: key rotation, the cost of recording use, where people find the page
# ---------------------------------------------------------------------------------------------------------------
def test_tokens_survive_a_secret_key_rotation_while_the_old_key_is_a_fallback(token_for, bearer, settings):
    plaintext = token_for("fiona")
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert bearer(plaintext).get("/api/v1/sections/").status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert_problem(bearer(plaintext).get("/api/v1/sections/"), 401)


def test_the_last_use_is_written_at_most_once_a_minute(token_for, bearer):
    plaintext = token_for("fiona")
    client = bearer(plaintext)
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(prefix=plaintext[4:12]).update(last_used_at=recent)
    client.get("/api/v1/sections/")
    assert token_row(plaintext).last_used_at == recent
    stale = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(prefix=plaintext[4:12]).update(last_used_at=stale)
    client.get("/api/v1/sections/")
    assert token_row(plaintext).last_used_at > stale


def test_the_user_menu_links_to_the_tokens_page_and_the_api_documentation(user, sign_in):
    user("fiona")
    page = sign_in("fiona").get("/accounts/tokens/").content.decode()
    assert 'href="/accounts/tokens/"' in page and 'href="/api/docs/"' in page
    assert 'href="/api/usage/"' not in page  # the usage page is for admins and auditors


def test_a_section_the_user_may_not_visit_does_not_exist_for_the_token_api(token_for, bearer):
    hr = Section.objects.get(slug="hr")
    response = bearer(token_for("frank", scope="write")).post("/api/v1/tokens/", {"name": "x", "section": hr.pk})
    body = assert_problem(response, 400)
    assert body["invalid_params"][0]["name"] == "section" and "does not exist" in body["invalid_params"][0]["reason"]
