"""Privacy: views forget their user after ANALYTICS_PSEUDONYMISE_DAYS (unique users still count), everything ages
out through the audit purge, and a user can switch recording off on /analytics/privacy/ when the platform allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import services
from analytics.models import AnalyticsOptOut, DailyPageStat, DailySectionStat, PageTime, PageView, StatScope
from analytics.tracking import pseudonym_for
from audit.retention import purge_all

from .conftest import live, view

pytestmark = pytest.mark.django_db


def test_views_older_than_the_privacy_period_keep_only_a_pseudonym(demo, user):
    frank = user("frank")
    live(ANALYTICS_PSEUDONYMISE_DAYS=30)
    now = timezone.now()
    old = view("frank", "/finance/", now - timedelta(days=31), section="finance")
    recent = view("frank", "/finance/", now - timedelta(days=29), section="finance")
    assert services.pseudonymise() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.user is None and old.pseudonym == pseudonym_for(frank.pk)
    assert recent.user == frank
    assert services.pseudonymise() == 0  # nothing left to do


def test_a_pseudonymised_user_is_still_one_unique_user(demo, user):
    user("frank")
    now = timezone.now()
    view("frank", "/finance/", now - timedelta(minutes=10), section="finance")
    view("frank", "/finance/", now - timedelta(minutes=5), section="finance")
    live(ANALYTICS_PSEUDONYMISE_DAYS=0)
    services.pseudonymise()
    assert not PageView.objects.filter(user__isnull=False).exists()
    services.aggregate_day(timezone.localdate())
    assert DailySectionStat.objects.get(day=timezone.localdate(), scope=StatScope.ALL).unique_users == 1


def test_the_audit_purge_removes_expired_views_times_and_aggregates(demo, user):
    user("frank")
    live(ANALYTICS_RETENTION_DAYS=30)
    now = timezone.now()
    expired = view("frank", "/finance/", now - timedelta(days=40), section="finance")
    kept = view("frank", "/finance/", now - timedelta(days=2), section="finance")
    PageTime.objects.create(view_id=expired.public_id, user=expired.user, ms=5, received=now - timedelta(days=40))
    for day in (expired.started, kept.started):
        services.aggregate_day(timezone.localdate(day))
    results = {result.name: result.deleted for result in purge_all(only=["analytics"])}
    assert results["analytics:page-visits"] == 1
    assert results["analytics:page-times"] == 1
    assert results["analytics:daily-pages"] == 1
    assert results["analytics:daily-sections"] >= 2  # the section's day and the all-sections day
    assert list(PageView.objects.all()) == [kept]
    assert set(DailyPageStat.objects.values_list("day", flat=True)) == {timezone.localdate(kept.started)}


def test_a_user_opts_out_and_back_in_on_the_privacy_page(sign_in, demo):
    client = sign_in("frank")
    page = client.get("/analytics/privacy/")
    html = page.content.decode()
    assert page.status_code == 200 and "What is recorded" in html and 'data-opted-out="false"' in html
    response = client.post("/analytics/privacy/", {"opted_out": "on"}, follow=True)
    assert "no longer recorded" in response.content.decode()
    assert AnalyticsOptOut.objects.filter(user__username="frank").exists()
    assert "data-analytics-beacon" not in client.get("/finance/").content.decode()
    client.post("/analytics/privacy/", {})
    assert not AnalyticsOptOut.objects.exists()
    assert "data-analytics-beacon" in client.get("/finance/").content.decode()


def test_no_opting_out_while_the_live_setting_forbids_it(sign_in, demo):
    live(ANALYTICS_ALLOW_OPT_OUT=False)
    client = sign_in("frank")
    html = client.get("/analytics/privacy/").content.decode()
    assert "Opting out is switched off" in html and "data-analytics-opt-out" not in html
    response = client.post("/analytics/privacy/", {"opted_out": "on"}, follow=True)
    assert "Opting out is switched off" in response.content.decode()
    assert not AnalyticsOptOut.objects.exists()


def test_the_privacy_page_is_in_every_signed_in_users_menu(sign_in, demo):
    html = sign_in("frank").get("/").content.decode()
    assert 'href="/analytics/privacy/"' in html
