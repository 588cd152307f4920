"""Retention purge: rows older than the live-setting period go, in small batches; rows inside it never do; the
newest version of every object's history always stays; each run leaves one security event with the counts."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from constance import config
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SecurityEvent
from audit.queries import history_model_for
from audit.retention import (
    RetentionPolicy,
    history_policy,
    purge,
    purge_all,
    register_policy,
    security_event_policy,
    unregister_policy,
)
from core.live import forget_live_settings
from core.security import EventType
from tenants import services
from tenants.models import Section

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
DAYS = 30
CUTOFF = NOW - timedelta(days=DAYS)
LONG_AGO = NOW - timedelta(days=400)


def _retention(**days: int) -> None:
    """Set retention live settings, e.g. _retention(SECURITY_EVENT_RETENTION_DAYS=30), and drop the memo."""
    for name, value in days.items():
        setattr(config, name, value)
    forget_live_settings()


def _event(created: datetime, event_type: str = EventType.SIGN_IN) -> SecurityEvent:
    event = SecurityEvent.objects.create(event_type=event_type, username="ann")
    # `created` is auto_now_add: only an UPDATE can put it in the past.
    SecurityEvent.objects.filter(pk=event.pk).update(created=created)
    return event


def _existing(*objs: Any) -> set[int]:
    model = type(objs[0])
    return set(model.objects.filter(pk__in=[o.pk for o in objs]).values_list("pk", flat=True))


def _purge_events() -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=EventType.RETENTION_PURGE))


# ---------------------------------------------------------------------------------------------------------------
# Security events: both sides of the boundary, batches, dry run, "forever"
# ---------------------------------------------------------------------------------------------------------------
def test_security_events_older_than_the_cutoff_go_and_those_at_or_after_it_stay() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    older = _event(CUTOFF - timedelta(seconds=1))
    at_cutoff = _event(CUTOFF)
    newer = _event(CUTOFF + timedelta(seconds=1))

    result = purge(security_event_policy(), now=NOW)

    assert (result.deleted, result.batches, result.cutoff) == (1, 1, CUTOFF)
    assert _existing(older, at_cutoff, newer) == {at_cutoff.pk, newer.pk}
    assert result.describe() == "security events: 1 row older than 2025-01-30 12:00:00 UTC removed in 1 batch"


def test_old_rows_are_deleted_in_batches_of_the_given_size_and_newer_rows_stay() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old = [_event(LONG_AGO + timedelta(minutes=i)) for i in range(5)]
    recent = [_event(NOW - timedelta(days=1)), _event(NOW)]

    with CaptureQueriesContext(connection) as queries:
        result = purge(security_event_policy(), now=NOW, batch_size=2)

    assert (result.deleted, result.batches) == (5, 3)
    assert _existing(*old) == set()
    assert _existing(*recent) == {e.pk for e in recent}
    # Each batch is its own small DELETE (a small Galera write-set): 2 + 2 + 1 rows.
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3


def test_a_dry_run_reports_what_would_go_and_deletes_nothing() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old = [_event(LONG_AGO) for _ in range(3)]

    [result] = purge_all(now=NOW, batch_size=2, dry_run=True, only=["security-events"])

    assert (result.deleted, result.batches, result.dry_run) == (3, 2, True)
    assert "3 rows older than 2025-01-30 12:00:00 UTC would be removed in 2 batches (dry run)" in result.describe()
    assert _existing(*old) == {e.pk for e in old}
    assert _purge_events() == []


@pytest.mark.parametrize("days", [0, -1])
def test_a_retention_of_zero_days_or_less_keeps_everything(days: int) -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=days)
    ancient = _event(NOW - timedelta(days=5000))

    [result] = purge_all(now=NOW, only=["security-events"])

    assert result.kept_forever and result.deleted == 0
    assert result.describe() == f"security events: kept forever (SECURITY_EVENT_RETENTION_DAYS is {days})"
    assert _existing(ancient) == {ancient.pk}
    [event] = _purge_events()
    assert event.detail["kept_forever"] == ["security-events"]


# ---------------------------------------------------------------------------------------------------------------
# django-axes' logs: purged on the security-event period; lock-outs (AccessAttempt) untouched
# ---------------------------------------------------------------------------------------------------------------
def _axes_row(model: Any, when: datetime, **extra: Any) -> Any:
    row = model.objects.create(user_agent="pytest", ip_address="192.0.2.1", username="ann", **extra)
    model.objects.filter(pk=row.pk).update(attempt_time=when)
    return row


def test_axes_access_and_failure_logs_are_purged_but_lock_outs_are_not() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old_log, new_log = _axes_row(AccessLog, LONG_AGO), _axes_row(AccessLog, NOW)
    old_failure, new_failure = _axes_row(AccessFailureLog, LONG_AGO), _axes_row(AccessFailureLog, NOW)
    lock_out = _axes_row(AccessAttempt, LONG_AGO, get_data="", post_data="", failures_since_start=5)

    results = {r.name: r.deleted for r in purge_all(now=NOW, only=["axes"])}

    assert results == {"axes:access-log": 1, "axes:failure-log": 1}
    assert _existing(old_log, new_log) == {new_log.pk}
    assert _existing(old_failure, new_failure) == {new_failure.pk}
    assert _existing(lock_out) == {lock_out.pk}


# ---------------------------------------------------------------------------------------------------------------
# Configuration history: the newest version of every object always stays
# ---------------------------------------------------------------------------------------------------------------
def _section_with_versions(slug: str, names: list[str]) -> Section:
    section = services.save_section(Section(slug=slug, name=names[0]), actor=None, reason="create")
    for name in names[1:]:
        section.name = name
        services.save_section(section, actor=None, reason=f"rename to {name}")
    return section


def _date_versions(section: Section, dates: list[datetime]) -> list[int]:
    """Give the section's versions (oldest first) these dates; return their history ids."""
    ids = list(section.history.order_by("history_id").values_list("history_id", flat=True))  # type: ignore[attr-defined]
    assert len(ids) == len(dates)
    for history_id, when in zip(ids, dates, strict=True):
        section.history.filter(history_id=history_id).update(history_date=when)  # type: ignore[attr-defined]
    return ids


def _versions(section: Section) -> list[str]:
    return list(section.history.order_by("history_date", "history_id").values_list("name", flat=True))  # type: ignore[attr-defined]


def _section_history_policy() -> RetentionPolicy:
    hm = history_model_for("tenants", "section")
    assert hm is not None
    return history_policy(hm)


def test_history_keeps_the_newest_version_of_every_object_however_old() -> None:
    _retention(HISTORY_RETENTION_DAYS=DAYS)
    # Edited three times long ago, never since: its newest version is all that rebuilds its current state.
    dormant = _section_with_versions("ret-dormant", ["Dormant 1", "Dormant 2", "Dormant 3"])
    _date_versions(dormant, [LONG_AGO, LONG_AGO + timedelta(days=1), LONG_AGO + timedelta(days=2)])
    # Edited long ago and again recently: the old versions go, the recent one stays.
    active = _section_with_versions("ret-active", ["Active 1", "Active 2", "Active 3"])
    _date_versions(active, [LONG_AGO, LONG_AGO + timedelta(days=1), NOW - timedelta(days=1)])
    # Everything inside the period: untouched.
    fresh = _section_with_versions("ret-fresh", ["Fresh 1", "Fresh 2"])
    _date_versions(fresh, [CUTOFF, NOW])

    result = purge(_section_history_policy(), now=NOW, batch_size=1)

    assert result.deleted == 4
    assert _versions(dormant) == ["Dormant 3"]
    assert _versions(active) == ["Active 3"]
    assert _versions(fresh) == ["Fresh 1", "Fresh 2"]
    # The point-in-time view still rebuilds the dormant section as it is today.
    assert Section.history.as_of(NOW).get(pk=dormant.pk).name == "Dormant 3"  # type: ignore[attr-defined]


def test_history_versions_recorded_in_the_same_instant_keep_the_later_one() -> None:
    _retention(HISTORY_RETENTION_DAYS=DAYS)
    section = _section_with_versions("ret-same-instant", ["First", "Second"])
    _date_versions(section, [LONG_AGO, LONG_AGO])  # a bulk load can record two versions in one microsecond

    purge(_section_history_policy(), now=NOW)

    assert _versions(section) == ["Second"]


def test_every_history_table_has_its_own_policy_on_the_history_setting() -> None:
    results = purge_all(now=NOW, dry_run=True, only=["history"])
    assert {"history:tenants.section", "history:tenants.page", "history:navigation.menuitem"} <= {
        r.name for r in results
    }
    assert {r.setting for r in results} == {"HISTORY_RETENTION_DAYS"}


# ---------------------------------------------------------------------------------------------------------------
# The whole run: one security event, one log line per table
# ---------------------------------------------------------------------------------------------------------------
def test_a_purge_records_one_security_event_with_the_counts_and_logs_each_table(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS, HISTORY_RETENTION_DAYS=DAYS)
    for _ in range(3):
        _event(LONG_AGO)
    section = _section_with_versions("ret-counted", ["One", "Two"])
    _date_versions(section, [LONG_AGO, LONG_AGO + timedelta(days=1)])

    with caplog.at_level(logging.INFO, logger="atrium.jobs"):
        results = purge_all(now=NOW, only=["security-events", "history:tenants.section"])

    assert [r.deleted for r in results] == [3, 1]
    [event] = _purge_events()
    assert event.detail["deleted"] == {"security-events": 3, "history:tenants.section": 1}
    assert event.detail["total"] == 4
    assert event.detail["cutoffs"]["security-events"] == CUTOFF.isoformat()
    assert event.reason == "Retention purge removed 4 rows"
    lines = [r.getMessage() for r in caplog.records if r.name == "atrium.jobs"]
    assert "Retention purge: security events: 3 rows older than 2025-01-30 12:00:00 UTC removed in 1 batch" in lines
    assert any(line.startswith("Retention purge: Section history: 1 row older than") for line in lines)


def test_another_app_adds_its_table_with_one_registration() -> None:
    _retention(API_USAGE_RETENTION_DAYS=DAYS)
    old_usage = _event(LONG_AGO, event_type=EventType.TOKEN_CREATED)
    other = _event(LONG_AGO)
    register_policy(
        RetentionPolicy(
            "api:usage",
            "API_USAGE_RETENTION_DAYS",
            "created",
            lambda: SecurityEvent.objects.filter(event_type=EventType.TOKEN_CREATED),
            label="API usage",
        )
    )
    try:
        out = StringIO()
        call_command("purge_expired", "--only", "api", stdout=out)
    finally:
        unregister_policy("api:usage")

    assert "API usage: 1 row older than" in out.getvalue()
    assert _existing(old_usage, other) == {other.pk}


def test_a_policy_on_a_setting_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="NO_SUCH_DAYS is not a live setting"):
        register_policy(RetentionPolicy("x", "NO_SUCH_DAYS", "created", SecurityEvent.objects.all))


# ---------------------------------------------------------------------------------------------------------------
# manage.py purge_expired
# ---------------------------------------------------------------------------------------------------------------
def test_the_command_prints_one_line_per_table_and_the_total() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old = [_event(timezone.now() - timedelta(days=DAYS + 1)) for _ in range(3)]
    recent = _event(timezone.now() - timedelta(days=DAYS - 1))
    out = StringIO()

    call_command("purge_expired", "--only", "security-events", "--batch-size", "2", stdout=out)

    lines = out.getvalue().splitlines()
    assert re.fullmatch(
        r"security events: 3 rows older than \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC removed in 2 batches", lines[0]
    )
    assert lines[-1].endswith("Removed 3 rows in all.")
    assert _existing(*old, recent) == {recent.pk}


def test_the_command_dry_run_says_so_and_deletes_nothing() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old = _event(timezone.now() - timedelta(days=DAYS + 1))
    out = StringIO()

    call_command("purge_expired", "--dry-run", "--only", "security-events", stdout=out)

    assert "security events: 1 row older than" in out.getvalue()
    assert "would be removed in 1 batch (dry run)" in out.getvalue()
    assert "Dry run: 1 row would be removed; nothing was deleted." in out.getvalue()
    assert _existing(old) == {old.pk}
    assert _purge_events() == []


def test_the_command_refuses_an_unknown_table_and_deletes_nothing() -> None:
    _retention(SECURITY_EVENT_RETENTION_DAYS=DAYS)
    old = _event(timezone.now() - timedelta(days=DAYS + 1))

    with pytest.raises(CommandError, match="No retention policy named nope") as refused:
        call_command("purge_expired", "--only", "security-events", "nope", stdout=StringIO())

    assert "security-events" in str(refused.value) and "history" in str(refused.value)  # it lists the names
    assert _existing(old) == {old.pk}


def test_the_command_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("purge_expired", "--batch-size", "0", stdout=StringIO())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "CommandError: --batch-size must be at least 1 (got 0)."),
        (["--only", "nope"], "CommandError: No retention policy named nope."),
        (["--batch-size", "many"], "argument --batch-size: invalid int value: 'many'"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message_and_no_traceback(args: list[str], message: str) -> None:
    env = {**os.environ, "ATRIUM_READ_DOT_ENV": "false"}
    result = subprocess.run(
        [sys.executable, "manage.py", "purge_expired", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
