"""The time-on-page beacon: a page's own view gets its time (the longest of its beacons); anything forged,
tampered with or out of range is a clear 4xx and stores nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import buffer, services
from analytics.models import PageTime, PageView
from analytics.tracking import make_token

from .conftest import live

pytestmark = pytest.mark.django_db

BEACON = "/analytics/beacon/"


def open_page(client, path: str = "/finance/") -> tuple[str, str]:
    """Open a page as a browser would; its beacon token and CSRF token."""
    html = client.get(path).content.decode()
    token = re.search(r'data-token="([^"]+)"', html).group(1)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    return token, csrf


def send(client, token: str, csrf: str, ms) -> object:
    return client.post(BEACON, {"csrfmiddlewaretoken": csrf, "token": token, "ms": ms})


def stored_times() -> list[PageTime]:
    buffer.flush()
    return list(PageTime.objects.all())


def test_a_beacon_for_ones_own_view_sets_its_time_on_page(browser_client, demo):
    client = browser_client("frank")
    token, csrf = open_page(client)
    assert send(client, token, csrf, "2500").status_code == 204
    (time,) = stored_times()
    assert time.ms == 2500
    assert services.merge_page_times() == 1
    view = PageView.objects.get()
    assert view.duration_ms == 2500 and view.public_id == time.view_id
    assert not PageTime.objects.exists()  # used up


def test_repeated_beacons_keep_the_longest_time(browser_client, demo):
    client = browser_client("frank")
    token, csrf = open_page(client)
    for ms in ("1200", "3400", "2000"):  # hidden, shown again, then left
        assert send(client, token, csrf, ms).status_code == 204
    buffer.flush()
    services.merge_page_times()
    assert PageView.objects.get().duration_ms == 3400
    # A later, shorter beacon (a second tab's, a replay) does not shorten it.
    send(client, token, csrf, "100")
    buffer.flush()
    services.merge_page_times()
    assert PageView.objects.get().duration_ms == 3400


def test_a_beacon_for_another_users_view_is_refused(browser_client, demo):
    frank_token, _ = open_page(browser_client("frank"))
    fiona = browser_client("fiona")
    _, fiona_csrf = open_page(fiona)
    response = send(fiona, frank_token, fiona_csrf, "5000")
    body = response.json()
    assert response.status_code == 403 and body["detail"] == "This page view is not yours."
    assert response["Content-Type"].startswith("application/problem+json")
    assert [t.user.username for t in stored_times()] == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature
        lambda token: "x" + token,  # the payload
        lambda token: make_token(uuid.uuid4(), 1).replace(":", ";"),  # not a signed value at all
        lambda token: "",  # missing
    ],
    ids=["signature", "payload", "garbage", "missing"],
)
def test_a_tampered_or_missing_token_is_a_400(browser_client, demo, tamper):
    client = browser_client("frank")
    token, csrf = open_page(client)
    response = send(client, tamper(token), csrf, "1000")
    assert response.status_code == 400
    assert "not a valid page token" in response.json()["detail"]
    assert stored_times() == []


def test_a_token_signed_for_another_purpose_or_expired_is_refused(browser_client, demo, settings, user):
    client = browser_client("frank")
    _, csrf = open_page(client)
    from django.core import signing

    other_salt = signing.dumps({"v": uuid.uuid4().hex, "u": user("frank").pk}, salt="something.else")
    assert send(client, other_salt, csrf, "1000").status_code == 400
    settings.ANALYTICS_BEACON_MAX_AGE_SECONDS = -1
    token, _ = open_page(client)
    assert send(client, token, csrf, "1000").status_code == 400
    assert stored_times() == []


@pytest.mark.parametrize("ms", ["-5", "1.5", "abc", "", "99999999999", str(8 * 60 * 60 * 1000 + 1)])
def test_a_time_that_is_not_a_sane_whole_number_is_a_400(browser_client, demo, ms):
    client = browser_client("frank")
    token, csrf = open_page(client)
    response = send(client, token, csrf, ms)
    assert response.status_code == 400
    assert response.json()["invalid_params"][0]["name"] == "ms"
    assert stored_times() == []


def test_the_beacon_takes_only_post(browser_client, demo):
    client = browser_client("frank")
    token, csrf = open_page(client)
    assert client.get(BEACON, {"token": token, "ms": "1000"}).status_code == 405
    assert client.put(BEACON, HTTP_X_CSRFTOKEN=csrf).status_code == 405
    assert stored_times() == []


def test_a_beacon_without_the_csrf_token_is_refused(browser_client, demo):
    client = browser_client("frank")
    token, _ = open_page(client)
    response = client.post(BEACON, {"token": token, "ms": "1000"})
    assert response.status_code == 403
    garbage = client.post(BEACON, data=b"\x00\xff not a form", content_type="application/octet-stream")
    assert garbage.status_code == 403
    assert stored_times() == []


def test_a_signed_out_browser_cannot_send_beacons(client, demo, user):
    token = make_token(uuid.uuid4(), user("frank").pk)
    response = client.post(BEACON, {"token": token, "ms": "1000"})
    assert response.status_code == 403
    assert stored_times() == []


def test_an_opted_out_user_s_beacon_stores_nothing(browser_client, demo, user):
    client = browser_client("frank")
    token, csrf = open_page(client)
    services.set_opt_out(user("frank"), opted_out=True)
    assert send(client, token, csrf, "1000").status_code == 204
    assert stored_times() == []
    live(ANALYTICS_ALLOW_OPT_OUT=False)
    assert send(client, token, csrf, "1000").status_code == 204
    assert len(stored_times()) == 1


def test_a_beacon_may_arrive_before_its_view_is_written(browser_client, demo):
    client = browser_client("frank")
    token, csrf = open_page(client)
    send(client, token, csrf, "4000")
    # Another web instance: the beacon is written, the view is still in the first instance's buffer.
    view_rows = buffer.views.take()
    buffer.flush()
    assert services.merge_page_times() == 0
    assert PageTime.objects.count() == 1  # kept for the next run
    for row in view_rows:
        buffer.record_view(row)
    buffer.flush()
    assert services.merge_page_times() == 1
    assert PageView.objects.get().duration_ms == 4000


def test_a_beacon_whose_view_never_arrives_is_dropped_after_a_day(browser_client, demo):
    client = browser_client("frank")
    token, csrf = open_page(client)
    send(client, token, csrf, "4000")
    buffer.views.take()  # the view's process died before it flushed
    buffer.flush()
    services.merge_page_times()
    assert PageTime.objects.count() == 1
    services.merge_page_times(now=timezone.now() + timedelta(days=1, minutes=1))
    assert not PageTime.objects.exists()
