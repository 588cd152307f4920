"""Security alerts: rules raise alerts from security events (log line, e-mail, alerts page); admins acknowledge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from constance.test import override_config
from django.test import Client

from accounts.models import SecurityEvent
from audit.models import Alert, AlertRule, RuleKind
from core.security import EventType, record_security_event
from core.services import save_with_history

pytestmark = pytest.mark.django_db

ACCOUNT_RULE = "Repeated failed sign-ins for one account"
IP_RULE = "Many failed sign-ins from one address"
GRANT_RULE = "Platform-admin or auditor rights granted"
EXPORT_RULE = "Large export"
ALERTS = "/audit/alerts/"


def _fail_sign_in(username: str, ip: str = "198.51.100.7", times: int = 1) -> None:
    """Wrong passwords through the real sign-in form (axes keeps recording failures after it locks out)."""
    client = Client(REMOTE_ADDR=ip)
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username, "password": "not-the-password"})
        assert response.status_code in (200, 429)


def _alerts(rule_name: str) -> list[Alert]:
    return list(Alert.objects.filter(rule__name=rule_name).order_by("raised_at", "id"))


def _set_rule(name: str, **changes: Any) -> AlertRule:
    rule = AlertRule.objects.get(name=name)
    for field, value in changes.items():
        setattr(rule, field, value)
    return save_with_history(rule, actor=None, reason="test")  # type: ignore[return-value]


def _raise_account_alert(username: str = "frank") -> Alert:
    _fail_sign_in(username, times=5)
    [alert] = _alerts(ACCOUNT_RULE)
    return alert


# ---------------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------------
def test_the_default_rules_are_seeded_with_a_first_history_entry() -> None:
    rules = {rule.kind: rule for rule in AlertRule.objects.all()}
    assert set(rules) == set(RuleKind.values)
    assert (
        rules[RuleKind.FAILED_SIGN_INS_ACCOUNT].threshold,
        rules[RuleKind.FAILED_SIGN_INS_ACCOUNT].window_minutes,
    ) == (
        5,
        10,
    )
    assert rules[RuleKind.LARGE_EXPORT].threshold == 10000
    assert all(rule.enabled for rule in rules.values())
    first = rules[RuleKind.BREAK_GLASS].history.earliest()
    assert first.history_type == "+" and first.history_change_reason == "Default rule shipped with Atrium"


def test_five_failed_sign_ins_for_one_account_raise_exactly_one_alert() -> None:
    _fail_sign_in("frank", ip="198.51.100.1", times=4)
    assert _alerts(ACCOUNT_RULE) == []

    _fail_sign_in("frank", ip="198.51.100.2")
    [alert] = _alerts(ACCOUNT_RULE)
    failures = SecurityEvent.objects.filter(event_type=EventType.SIGN_IN_FAILED, username="frank")
    assert alert.subject == "frank" and alert.event_count == 5 and alert.is_open
    assert alert.event_ids == sorted(failures.values_list("pk", flat=True))
    assert "5 failed sign-ins" in alert.summary and "frank" in alert.summary
    raised = SecurityEvent.objects.get(event_type=EventType.ALERT_RAISED, detail__alert=alert.pk)
    assert raised.detail["rule"] == ACCOUNT_RULE and raised.detail["count"] == 5

    # A sixth failure in the same window adds to the open alert instead of raising a second one.
    _fail_sign_in("frank", ip="198.51.100.3")
    [alert] = _alerts(ACCOUNT_RULE)
    assert alert.event_count == 6


def test_failures_spread_beyond_the_window_raise_nothing() -> None:
    _fail_sign_in("frank", times=4)
    # Those four happened 11 minutes ago: outside the default rule's 10-minute window.
    SecurityEvent.objects.filter(username="frank").update(
        created=SecurityEvent.objects.first().created - timedelta(minutes=11)
    )
    _fail_sign_in("frank", times=1)
    assert _alerts(ACCOUNT_RULE) == []


def test_new_failures_after_an_acknowledged_alert_raise_a_new_one(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    sign_in("admin").post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "Frank forgot his password"})
    _fail_sign_in("frank", times=4)
    assert len(_alerts(ACCOUNT_RULE)) == 1  # the acknowledged failures are not counted again
    _fail_sign_in("frank", times=1)
    second = _alerts(ACCOUNT_RULE)[1]
    assert second.is_open and second.event_count == 5


def test_failed_sign_ins_from_one_address_raise_an_alert_for_that_address() -> None:
    for number in range(19):
        _fail_sign_in(f"guess{number}", ip="203.0.113.66")
    assert _alerts(IP_RULE) == []
    _fail_sign_in("guess19", ip="203.0.113.66")
    [alert] = _alerts(IP_RULE)
    assert alert.subject == "203.0.113.66" and alert.event_count == 20
    assert _alerts(ACCOUNT_RULE) == []  # one failure per account is not an account alert


def test_granting_platform_admin_and_auditor_rights_raises_alerts(sign_in: Callable[[str], Client]) -> None:
    sign_in("admin")
    sign_in("audrey")
    alerts = {alert.subject: alert for alert in _alerts(GRANT_RULE)}
    assert set(alerts) == {"admin", "audrey"}
    assert "platform-admin rights" in alerts["admin"].summary
    assert "auditor rights" in alerts["audrey"].summary


def test_a_lock_out_raises_one_alert_for_the_locked_account() -> None:
    _fail_sign_in("frank", times=7)  # axes locks frank out at the fifth failure and again on each later try
    [alert] = _alerts("Account locked out")
    assert alert.subject == "frank" and "locked out" in alert.summary
    assert alert.event_count == SecurityEvent.objects.filter(event_type=EventType.LOCKED_OUT).count() >= 2


def test_a_successful_break_glass_sign_in_raises_an_alert_and_a_refused_one_does_not() -> None:
    record_security_event(EventType.BREAK_GLASS, username="emergency", success=False, reason="refused")
    assert _alerts("Break-glass sign-in") == []
    record_security_event(EventType.BREAK_GLASS, username="emergency", method="local")
    [alert] = _alerts("Break-glass sign-in")
    assert alert.subject == "emergency" and alert.rule.severity == "critical"


def test_exports_above_the_threshold_raise_an_alert_and_at_the_threshold_do_not() -> None:
    record_security_event(EventType.EXPORT, username="audrey", reason="change history", rows=10000)
    assert _alerts(EXPORT_RULE) == []
    record_security_event(EventType.EXPORT, username="audrey", reason="change history", rows=10001)
    [alert] = _alerts(EXPORT_RULE)
    assert alert.subject == "audrey" and "10001 rows" in alert.summary


def test_a_real_export_is_measured_against_the_rule(
    demo: None, sign_in: Callable[[str], Client], mariadb: None
) -> None:
    _set_rule(EXPORT_RULE, threshold=1)
    response = sign_in("audrey").get("/audit/changes/export/csv/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [alert] = _alerts(EXPORT_RULE)
    export = SecurityEvent.objects.get(event_type=EventType.EXPORT)
    assert alert.subject == "audrey" and alert.event_ids == [export.pk] and export.detail["rows"] > 1


def test_a_disabled_rule_raises_nothing() -> None:
    _set_rule(ACCOUNT_RULE, enabled=False)
    _fail_sign_in("frank", times=6)
    assert _alerts(ACCOUNT_RULE) == []


def test_rules_refuse_thresholds_and_windows_below_one() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        _set_rule(ACCOUNT_RULE, threshold=0, window_minutes=0)
    assert set(refused.value.message_dict) == {"threshold", "window_minutes"}
    assert AlertRule.objects.get(name=ACCOUNT_RULE).threshold == 5


# ---------------------------------------------------------------------------------------------------------------
# What raising does: log line, e-mail
# ---------------------------------------------------------------------------------------------------------------
@override_config(SECURITY_CONTACTS="ciso@example.com; SOC@example.com")
def test_raising_logs_critical_and_emails_the_security_contacts(
    settings: Any, mailoutbox: list[Any], caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SECURITY_ALERT_EMAILS = ["soc@example.com"]
    with caplog.at_level(logging.INFO, logger="atrium.security"), django_capture_on_commit_callbacks(execute=True):
        _fail_sign_in("frank", times=5)
    [alert] = _alerts(ACCOUNT_RULE)
    critical = [r for r in caplog.records if r.name == "atrium.security" and r.levelno == logging.CRITICAL]
    account_lines = [r for r in critical if getattr(r, "alert_id", None) == alert.pk]
    assert len(account_lines) == 1
    line = account_lines[0]
    assert (line.rule, line.subject, line.count) == (ACCOUNT_RULE, "frank", 5)

    account_mail = [m for m in mailoutbox if ACCOUNT_RULE in m.subject]
    assert len(account_mail) == 1
    assert account_mail[0].to == ["soc@example.com", "ciso@example.com"]  # the duplicate (any case) once
    assert "frank" in account_mail[0].subject and "5 failed sign-ins" in account_mail[0].body


def test_without_recipients_the_alert_is_still_raised_and_nothing_is_sent(
    settings: Any, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    settings.SECURITY_ALERT_EMAILS = []
    with django_capture_on_commit_callbacks(execute=True):
        _raise_account_alert()
    assert mailoutbox == []


def test_an_error_inside_evaluation_never_breaks_sign_in(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, sign_in: Callable[[str], Client]
) -> None:
    def broken(event: SecurityEvent) -> list[Alert]:
        raise RuntimeError("rule store unavailable")

    monkeypatch.setattr("audit.alerts.evaluate_event", broken)
    with caplog.at_level(logging.ERROR, logger="atrium.security"):
        _fail_sign_in("frank", times=5)
        sign_in("fiona")  # a good password still signs in (the sign-in event is evaluated too)
    assert SecurityEvent.objects.filter(event_type=EventType.SIGN_IN_FAILED, username="frank").count() == 5
    assert Alert.objects.count() == 0
    assert any("alert evaluation failed" in r.getMessage() for r in caplog.records)


def test_a_mail_outage_never_breaks_sign_in(
    settings: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SECURITY_ALERT_EMAILS = ["soc@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on the discard port
    with django_capture_on_commit_callbacks(execute=True) as announcements:
        _fail_sign_in("frank", times=5)  # asserts every attempt got its normal answer (200, then 429)
    assert announcements  # the e-mail was attempted, and its failure swallowed
    assert len(_alerts(ACCOUNT_RULE)) == 1


# ---------------------------------------------------------------------------------------------------------------
# The alerts page
# ---------------------------------------------------------------------------------------------------------------
def test_auditors_and_platform_admins_see_alerts_and_others_get_404(
    demo: None, sign_in: Callable[[str], Client]
) -> None:
    alert = _raise_account_alert()
    for name in ("audrey", "admin"):
        response = sign_in(name).get(ALERTS)
        assert response.status_code == 200
        assert alert.summary in response.content.decode()
    fiona = sign_in("fiona")
    assert fiona.get(ALERTS).status_code == 404
    assert fiona.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "x"}).status_code == 404
    anonymous = Client().get(ALERTS)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_user_menu_offers_alerts_and_security_events_to_auditors_not_to_editors(
    demo: None, sign_in: Callable[[str], Client]
) -> None:
    audrey_home = sign_in("audrey").get("/").content.decode()
    assert f'href="{ALERTS}"' in audrey_home and 'href="/audit/security/"' in audrey_home
    fiona_home = sign_in("fiona").get("/").content.decode()
    assert f'href="{ALERTS}"' not in fiona_home and 'href="/audit/security/"' not in fiona_home


def test_filters_show_open_acknowledged_or_all_alerts_of_a_rule(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    admin = sign_in("admin")  # its sign-in raises the rights-granted alert too
    grant = _alerts(GRANT_RULE)[0]
    admin.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "checked"})

    open_page = admin.get(ALERTS).content.decode()
    assert grant.summary in open_page and alert.summary not in open_page
    acknowledged = admin.get(ALERTS, {"status": "acknowledged"}).content.decode()
    assert alert.summary in acknowledged and grant.summary not in acknowledged
    rule_only = admin.get(ALERTS, {"status": "all", "rule": alert.rule_id}).content.decode()
    assert alert.summary in rule_only and grant.summary not in rule_only
    assert admin.get(ALERTS, {"status": "maybe"}).status_code == 400
    assert admin.get(ALERTS, {"rule": "99999"}).status_code == 400


def test_the_list_is_paginated_newest_first(sign_in: Callable[[str], Client]) -> None:
    for number in range(27):
        record_security_event(EventType.EXPORT, username=f"exporter{number:02d}", rows=20000)
    admin = sign_in("admin")
    first = admin.get(ALERTS, {"rule": AlertRule.objects.get(name=EXPORT_RULE).pk}).content.decode()
    assert "exporter26" in first and "exporter00" not in first
    second = admin.get(ALERTS, {"rule": AlertRule.objects.get(name=EXPORT_RULE).pk, "page": 2}).content.decode()
    assert "exporter00" in second and "exporter26" not in second


def test_auditors_may_not_acknowledge(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    audrey = sign_in("audrey")
    assert "Acknowledge</button>" not in audrey.get(ALERTS).content.decode()
    assert audrey.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "looks fine"}).status_code == 403
    alert.refresh_from_db()
    assert alert.is_open


def test_a_platform_admin_acknowledges_with_a_note(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    admin = sign_in("admin")
    assert "Acknowledge</button>" in admin.get(ALERTS).content.decode()
    response = admin.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "Frank forgot his password"}, follow=True)
    assert response.status_code == 200 and "acknowledged" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by.username == "admin" and alert.acknowledged_at is not None
    assert alert.acknowledgement_note == "Frank forgot his password"
    event = SecurityEvent.objects.get(event_type=EventType.ALERT_ACKNOWLEDGED)
    assert event.username == "admin" and event.detail["alert"] == alert.pk

    # Acknowledging twice changes nothing and says so.
    again = admin.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "me too"}, follow=True)
    assert "already been acknowledged" in again.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledgement_note == "Frank forgot his password"


def test_acknowledging_refuses_bad_input(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    admin = sign_in("admin")
    assert admin.post(f"{ALERTS}999999/acknowledge/", {"note": ""}).status_code == 404
    assert admin.get(f"{ALERTS}{alert.pk}/acknowledge/").status_code == 405
    too_long = admin.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "x" * 2001}, follow=True)
    assert "at most 2000 characters" in too_long.content.decode()
    alert.refresh_from_db()
    assert alert.is_open  # a note that is too long is refused

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin.cookies
    assert strict.post(f"{ALERTS}{alert.pk}/acknowledge/", {"note": "no token"}).status_code == 403
    alert.refresh_from_db()
    assert alert.is_open


# ---------------------------------------------------------------------------------------------------------------
# Editing rules in the admin
# ---------------------------------------------------------------------------------------------------------------
def _rule_form(rule: AlertRule, **changes: Any) -> dict[str, Any]:
    data = {
        "name": rule.name,
        "description": rule.description,
        "kind": rule.kind,
        "severity": rule.severity,
        "enabled": "on" if rule.enabled else "",
        "threshold": rule.threshold,
        "window_minutes": rule.window_minutes,
        "change_reason": "",
    }
    data.update(changes)
    return data


def test_editing_a_threshold_in_the_admin_needs_a_reason_and_is_kept_in_history(
    sign_in: Callable[[str], Client],
) -> None:
    rule = AlertRule.objects.get(name=ACCOUNT_RULE)
    url = f"/admin/audit/alertrule/{rule.pk}/change/"
    admin = sign_in("admin")

    without_reason = admin.post(url, _rule_form(rule, threshold=8))
    assert without_reason.status_code == 200 and "This field is required" in without_reason.content.decode()
    rule.refresh_from_db()
    assert rule.threshold == 5

    zero = admin.post(url, _rule_form(rule, threshold=0, change_reason="typo"))
    assert zero.status_code == 200 and "threshold must be at least 1" in zero.content.decode().lower()

    changed = admin.post(url, _rule_form(rule, threshold=8, change_reason="SEC-12: fewer false alarms"))
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert rule.threshold == 8
    entry = rule.history.latest("history_date")
    assert entry.threshold == 8 and entry.history_user.username == "admin"
    assert entry.history_change_reason == "SEC-12: fewer false alarms"

    # The new threshold applies to the next failures at once.
    _fail_sign_in("frank", times=5)
    assert _alerts(ACCOUNT_RULE) == []


def test_auditors_read_rules_in_the_admin_but_cannot_change_them(sign_in: Callable[[str], Client]) -> None:
    rule = AlertRule.objects.get(name=ACCOUNT_RULE)
    audrey = sign_in("audrey")
    assert audrey.get("/admin/audit/alertrule/").status_code == 200
    assert audrey.get(f"/admin/audit/alertrule/{rule.pk}/history/").status_code == 200
    response = audrey.post(
        f"/admin/audit/alertrule/{rule.pk}/change/", _rule_form(rule, threshold=1, change_reason="x")
    )
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.threshold == 5
    assert sign_in("fiona").get("/admin/audit/alertrule/").status_code in (302, 403)  # not staff: admin sign-in


def test_alerts_are_read_only_in_the_admin(sign_in: Callable[[str], Client]) -> None:
    alert = _raise_account_alert()
    admin = sign_in("admin")
    assert admin.get("/admin/audit/alert/").status_code == 200
    assert admin.get("/admin/audit/alert/add/").status_code == 403
    assert admin.post(f"/admin/audit/alert/{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Alert.objects.filter(pk=alert.pk).exists()
