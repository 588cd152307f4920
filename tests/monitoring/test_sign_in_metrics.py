"""Sign-in outcomes on /metrics, by method and outcome, counted from the security events every path records."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from core.security import EventType, record_security_event

pytestmark = pytest.mark.django_db

SIGN_INS = "atrium_sign_ins_total"


def test_password_sign_ins_failures_and_lockouts_are_counted_by_method(demo: Any, scrape: Any) -> None:
    Client().post("/accounts/login/", {"username": "fiona", "password": "atrium-demo"})
    Client().post("/accounts/login/", {"username": "fiona", "password": "wrong"})
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(6):
        attacker.post("/accounts/login/", {"username": "frank", "password": "wrong"})
    result = scrape()
    assert result.value(SIGN_INS, method="mock", outcome="success") == 1
    assert result.value(SIGN_INS, method="mock", outcome="failure") >= 7  # type: ignore[operator]
    assert result.value(SIGN_INS, method="mock", outcome="locked") >= 1  # type: ignore[operator]
    # The security events total is still there, from the same query.
    assert result.value("atrium_security_events_total", type="sign_in") == 1


def test_break_glass_and_token_failures_have_their_own_methods(demo: Any, scrape: Any) -> None:
    Client().post("/accounts/break-glass/", {"username": "emergency", "password": "wrong", "token": "000000"})
    Client().get("/api/v1/sections/", HTTP_AUTHORIZATION="Bearer atr_not-a-real-token")
    result = scrape()
    assert result.value(SIGN_INS, method="local", outcome="failure") == 1
    assert result.value(SIGN_INS, method="token", outcome="failure") == 1
    assert result.value(SIGN_INS, method="mock", outcome="failure") is None


def test_sso_and_mfa_outcomes_and_unknown_methods_stay_bounded(db: Any, scrape: Any) -> None:
    record_security_event(EventType.SSO_ERROR, success=False, method="oidc", reason="the IdP answered access_denied")
    record_security_event(EventType.MFA_FAILED, success=False, method="totp")
    record_security_event(EventType.SIGN_IN, username="someone", method="carrier-pigeon")
    record_security_event(EventType.SIGN_IN_FAILED, username="someone", success=False)
    record_security_event(EventType.EXPORT, reason="not a sign-in")
    result = scrape()
    assert result.value(SIGN_INS, method="oidc", outcome="sso_error") == 1
    assert result.value(SIGN_INS, method="totp", outcome="mfa_failed") == 1
    assert result.value(SIGN_INS, method="other", outcome="success") == 1
    assert result.value(SIGN_INS, method="unknown", outcome="failure") == 1
    assert {s.labels["outcome"] for s in result.samples(SIGN_INS)} <= {
        "success",
        "failure",
        "locked",
        "mfa_passed",
        "mfa_failed",
        "sso_error",
    }
