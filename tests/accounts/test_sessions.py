"""Session lifetime: an idle session and a too-old session both end, with a message and a security event."""

from __future__ import annotations

import time

import pytest
from constance.test import override_config
from django.test import override_settings

from accounts.middleware import SESSION_AUTH_TIME, SESSION_LAST_SEEN
from accounts.models import SecurityEvent

pytestmark = pytest.mark.django_db


def _age_session(client, **fields: int) -> None:
    session = client.session
    for key, seconds_ago in fields.items():
        session[key] = int(time.time()) - seconds_ago
    session.save()


@override_config(SESSION_IDLE_TIMEOUT_MINUTES=30)
def test_idle_session_is_signed_out(demo, sign_in):
    frank = sign_in("frank")
    assert frank.get("/finance/").status_code == 200
    _age_session(frank, **{SESSION_LAST_SEEN: 31 * 60})
    response = frank.get("/finance/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "inactivity" in frank.get(response["Location"]).content.decode()
    assert SecurityEvent.objects.filter(event_type="session_expired", reason="idle timeout").exists()


@override_settings(SESSION_ABSOLUTE_HOURS=8)
def test_session_older_than_the_absolute_lifetime_ends_even_when_active(demo, sign_in):
    frank = sign_in("frank")
    _age_session(frank, **{SESSION_AUTH_TIME: 9 * 3600, SESSION_LAST_SEEN: 10})
    assert frank.get("/finance/").status_code == 302
    assert SecurityEvent.objects.filter(reason="absolute lifetime reached").exists()


def test_an_active_session_stays(demo, sign_in):
    frank = sign_in("frank")
    _age_session(frank, **{SESSION_LAST_SEEN: 5 * 60})
    assert frank.get("/finance/").status_code == 200
