"""Section resolution: path and host name, the ContextVar scoping, and the reserved-route check."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import Client, override_settings

from core.context import current_section, using_section
from tenants import services
from tenants.checks import check_reserved_slugs
from tenants.models import Page, Section
from tenants.slugs import RESERVED_SLUGS

pytestmark = pytest.mark.django_db


def test_section_scoped_manager_follows_the_current_section(demo):
    finance = Section.objects.get(slug="finance")
    everything = Page.objects.all_sections().count()
    with using_section(finance):
        assert current_section() == finance
        assert set(Page.objects.values_list("section__slug", flat=True)) == {"finance"}
        assert Page.objects.all_sections().count() == everything
    assert current_section() is None
    assert Page.objects.count() == everything


@override_settings(ALLOWED_HOSTS=["finance.portal.test", "testserver"])
def test_a_section_can_be_served_on_its_own_host_name(demo, sign_in):
    finance = Section.objects.get(slug="finance")
    finance.hostname = "finance.portal.test"
    services.save_section(finance, actor=None, reason="own host")
    frank = sign_in("frank")
    response = frank.get("/", HTTP_HOST="finance.portal.test")
    assert response.status_code == 200
    assert "Find the month-end calendar" in response.content.decode()
    page = Page.objects.all_sections().get(section=finance, slug="month-end")
    assert frank.get(f"/pages/{page.pk}/", HTTP_HOST="finance.portal.test").status_code == 200
    hr_page = Page.objects.all_sections().get(section__slug="hr", slug="policies")
    assert frank.get(f"/pages/{hr_page.pk}/", HTTP_HOST="finance.portal.test").status_code == 404
    assert frank.get("/sections/", HTTP_HOST="finance.portal.test").status_code == 200


def test_every_platform_route_is_a_reserved_slug():
    assert check_reserved_slugs() == []
    for route in ("admin", "accounts"):
        assert route in RESERVED_SLUGS


@override_settings(ROOT_URLCONF="tests.tenants.urls_with_unreserved_route")
def test_the_system_check_reports_an_unreserved_platform_route():
    errors = check_reserved_slugs()
    assert [e.id for e in errors] == ["tenants.E001", "tenants.E001"]
    assert "'boom/'" in errors[0].msg and "'newthing/'" in errors[1].msg
    assert all(isinstance(e, checks.Error) for e in errors)


def test_unknown_section_is_a_friendly_404_for_anonymous_visitors(db):
    response = Client().get("/no-such-team/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_server_errors_render_the_friendly_500_page(db):
    client = Client(raise_request_exception=False)
    with override_settings(ROOT_URLCONF="tests.tenants.urls_with_unreserved_route"):
        response = client.get("/boom/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text and "Reference:" in text
