"""Django's 400 (a SuspiciousOperation such as a Host not in ALLOWED_HOSTS) is a problem document under /api/.

The handler is `core.views.bad_request`; this module is also the URLconf of its tests, the project's URLs with
`handler400` set, so the tests hold whether or not atrium/urls.py wires it yet.
"""

from __future__ import annotations

import pytest
from django.test import Client

from atrium.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401 - this module is a URLconf

from .conftest import assert_problem

handler400 = "core.views.bad_request"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_a_host_that_is_not_allowed_is_a_400_problem_under_the_api(demo):
    response = Client(HTTP_HOST="evil.example").get("/api/v1/sections/")
    body = assert_problem(response, 400)
    assert body["code"] == "bad_request" and body["request_id"]
    assert "evil.example" not in response.content.decode()


def test_pages_keep_djangos_plain_400(demo):
    response = Client(HTTP_HOST="evil.example").get("/finance/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_the_project_urlconf_names_the_handler():
    import atrium.urls

    assert atrium.urls.handler400 == handler400
