"""A browser session that expires while a page's script calls the API: the API answers 401 problem details, never
the sign-in page's 302 (a script cannot follow a redirect to a login form)."""

from __future__ import annotations

import time

import pytest

from accounts.middleware import SESSION_AUTH_TIME, SESSION_LAST_SEEN
from accounts.models import SecurityEvent
from core.security import EventType

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("aged", "reason"),
    [
        ({SESSION_LAST_SEEN: 24 * 3600}, "idle timeout"),
        ({SESSION_AUTH_TIME: 30 * 24 * 3600, SESSION_LAST_SEEN: 10}, "absolute lifetime reached"),
    ],
)
def test_an_expired_session_calling_the_api_gets_a_401_problem_not_a_redirect(demo, sign_in, aged, reason):
    client = sign_in("fiona")
    assert client.get("/api/v1/sections/").status_code == 200
    session = client.session
    for key, seconds_ago in aged.items():
        session[key] = int(time.time()) - seconds_ago
    session.save()

    body = assert_problem(client.get("/api/v1/sections/"), 401)
    assert body["code"] == "not_authenticated"
    assert SecurityEvent.objects.filter(event_type=EventType.SESSION_EXPIRED, reason=reason).exists()
    # The session is over: the next call is anonymous too, and a page still sends the browser to sign in.
    assert_problem(client.get("/api/v1/sections/"), 401)
    response = client.get("/finance/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_expired_session_writing_to_the_api_gets_a_401_problem(demo, sign_in):
    client = sign_in("fiona")
    session = client.session
    session[SESSION_LAST_SEEN] = int(time.time()) - 24 * 3600
    session.save()
    response = client.post("/api/v1/section-roles/", {}, content_type="application/json")
    assert_problem(response, 401)
