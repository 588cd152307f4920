"""The alert service: evaluates the alert rules against each new security event and raises alerts.

`on_security_event_saved` receives `post_save` of `accounts.SecurityEvent` (connected in AuditConfig.ready()).
For each enabled rule whose kind matches the event it counts the matching events in the rule's window with one
indexed query; when the count reaches the threshold it raises an `Alert`: the row, an ALERT_RAISED security
event, and — once the transaction commits — a CRITICAL line in the `atrium.security` log and an e-mail to the
security contacts.

No alert storm: while an alert for the same rule and subject (account, address or user) is open and was raised
within the rule's window, further matching events are added to its count instead of raising another one.

Rules are read per event, with one small query, and only for the event types some rule kind can match (a map
built from KIND_SPECS, so a page view, sign-in or sign-out costs no query at all). A cache would save that query
only for failed sign-ins, lock-outs, grants and exports, which are rare, and would delay a threshold change
made in the admin by the cache's lifetime on every web instance; reading the table keeps edits immediate.

Evaluation never breaks the request that recorded the event: it runs in a savepoint, and any error is logged
and swallowed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from core.live import live_setting
from core.security import EventType, record_security_event
from core.services import run_in_transaction

from .models import Alert, AlertRule, RuleKind

logger = logging.getLogger("atrium.security")

# An alert keeps the ids of the events that raised it; under a password-spraying attack that could be thousands,
# so only the newest ones are listed (the count stays exact).
MAX_EVENT_IDS = 100
MAX_NOTE_LENGTH = 2000

_evaluating: ContextVar[bool] = ContextVar("atrium_alert_evaluating", default=False)


# ---------------------------------------------------------------------------------------------------------------
# What each kind of rule matches
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    """What an alert concerns, and the SecurityEvent field (with an index on it and `created`) to count by."""

    field: str
    value: str


@dataclass(frozen=True)
class Match:
    count: int
    first: datetime
    last: datetime


def _by_username(event: SecurityEvent) -> Subject | None:
    return Subject("username", event.username) if event.username else None


def _by_ip(event: SecurityEvent) -> Subject | None:
    return Subject("ip_address", event.ip_address) if event.ip_address else None


def _by_username_or_ip(event: SecurityEvent) -> Subject | None:
    # A lock-out by address only (axes' ip_address parameter) has no username.
    return _by_username(event) or _by_ip(event)


def _export_rows(event: SecurityEvent) -> int | None:
    rows = (event.detail or {}).get("rows")
    # bool is an int in Python; a JSON `true` is not a row count.
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


@dataclass(frozen=True)
class KindSpec:
    """How a rule kind matches events: their types, whether only successes count, and what the alert is about."""

    event_types: frozenset[str]
    subject: Callable[[SecurityEvent], Subject | None]
    describe: Callable[[AlertRule, Subject, Match, SecurityEvent], str]
    only_successes: bool = False
    # Export-size rules compare one event's row count with the threshold instead of counting events.
    per_event: bool = False


def _describe_failed_account(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    return f"{match.count} failed sign-ins for the account “{subject.value}” within {rule.window_minutes} minutes"


def _describe_failed_ip(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    return f"{match.count} failed sign-ins from {subject.value} within {rule.window_minutes} minutes"


def _describe_lock_out(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    # Axes locks by account or by address and does not say which; the event names both when it has them.
    what = f"“{subject.value}”" if subject.field == "username" else f"the address {subject.value}"
    where = f" (from {event.ip_address})" if subject.field == "username" and event.ip_address else ""
    times = f", {match.count} times within {rule.window_minutes} minutes" if match.count > 1 else ""
    return f"Sign-in throttling locked out {what}{where}{times}"


def _describe_grant(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    rights = "platform-admin" if event.event_type == EventType.ADMIN_GRANTED else "auditor"
    return f"“{subject.value}” was granted {rights} rights ({event.reason or 'no reason recorded'})"


def _describe_break_glass(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    where = f" from {event.ip_address}" if event.ip_address else ""
    return f"Break-glass sign-in by “{subject.value}”{where}"


def _describe_export(rule: AlertRule, subject: Subject, match: Match, event: SecurityEvent) -> str:
    what = f": {event.reason}" if event.reason else ""
    return f"“{subject.value}” exported {_export_rows(event)} rows (more than {rule.threshold}){what}"


KIND_SPECS: dict[str, KindSpec] = {
    RuleKind.FAILED_SIGN_INS_ACCOUNT: KindSpec(
        frozenset({EventType.SIGN_IN_FAILED}), _by_username, _describe_failed_account
    ),
    RuleKind.FAILED_SIGN_INS_IP: KindSpec(frozenset({EventType.SIGN_IN_FAILED}), _by_ip, _describe_failed_ip),
    RuleKind.LOCK_OUTS: KindSpec(frozenset({EventType.LOCKED_OUT}), _by_username_or_ip, _describe_lock_out),
    RuleKind.RIGHTS_GRANTED: KindSpec(
        frozenset({EventType.ADMIN_GRANTED, EventType.AUDITOR_GRANTED}), _by_username, _describe_grant
    ),
    RuleKind.BREAK_GLASS: KindSpec(
        frozenset({EventType.BREAK_GLASS}), _by_username, _describe_break_glass, only_successes=True
    ),
    RuleKind.LARGE_EXPORT: KindSpec(
        frozenset({EventType.EXPORT}), _by_username_or_ip, _describe_export, per_event=True
    ),
}


def _kinds_by_event_type() -> dict[str, frozenset[str]]:
    kinds: dict[str, set[str]] = {}
    for kind, spec in KIND_SPECS.items():
        for event_type in spec.event_types:
            kinds.setdefault(event_type, set()).add(str(kind))
    return {event_type: frozenset(names) for event_type, names in kinds.items()}


# ALERT_RAISED and ALERT_ACKNOWLEDGED are in no spec, so recording them can never raise another alert.
KINDS_BY_EVENT_TYPE = _kinds_by_event_type()


# ---------------------------------------------------------------------------------------------------------------
# The receiver
# ---------------------------------------------------------------------------------------------------------------
def on_security_event_saved(
    sender: Any, instance: SecurityEvent, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """post_save receiver: evaluate the rules for a newly stored event, never letting an error escape."""
    if not created or raw or _evaluating.get():
        return
    token = _evaluating.set(True)
    try:
        # A savepoint: a database error here rolls back the alert, never the caller's transaction.
        with transaction.atomic():
            evaluate_event(instance)
    except Exception:
        logger.exception(
            "alert evaluation failed for security event %s",
            instance.pk,
            extra={"event": "alert_evaluation_failed", "event_id": instance.pk},
        )
    finally:
        _evaluating.reset(token)


def evaluate_event(event: SecurityEvent) -> list[Alert]:
    """Evaluate every enabled rule whose kind matches `event`; returns the alerts raised."""
    kinds = KINDS_BY_EVENT_TYPE.get(event.event_type)
    if not kinds:
        return []
    raised = []
    for rule in AlertRule.objects.filter(enabled=True, kind__in=kinds):
        alert = evaluate_rule(rule, event)
        if alert is not None:
            raised.append(alert)
    return raised


def evaluate_rule(rule: AlertRule, event: SecurityEvent) -> Alert | None:
    """Raise an alert if `event` makes `rule` reach its threshold and no open alert already covers it."""
    spec = KIND_SPECS.get(rule.kind)
    if spec is None or (spec.only_successes and not event.success):
        return None
    subject = spec.subject(event)
    if subject is None:
        return None
    since = event.created - timedelta(minutes=rule.window_minutes)
    match = _match(rule, spec, subject, event, after=since)
    if match is None:
        return None
    latest = _latest_alert(rule, subject, since)
    if latest is not None and latest.is_open:
        _add_to_open_alert(latest, event)
        return None
    if latest is not None:
        # Acknowledged within the window: only events after it count toward a new alert, so acknowledging
        # an alert is not followed at once by another one for the same events.
        match = _match(rule, spec, subject, event, after=latest.last_event_at, inclusive=False)
        if match is None:
            return None
    return raise_alert(rule, spec, subject, match, event)


def _match(
    rule: AlertRule, spec: KindSpec, subject: Subject, event: SecurityEvent, *, after: datetime, inclusive: bool = True
) -> Match | None:
    """The matching events since `after`, if they reach the rule's threshold (one indexed aggregate query)."""
    if spec.per_event:
        rows = _export_rows(event)
        if rows is None or rows <= rule.threshold or (not inclusive and event.created <= after):
            return None
        return Match(1, event.created, event.created)
    found = _matching_events(spec, subject, event, after=after, inclusive=inclusive).aggregate(
        count=Count("id"), first=Min("created"), last=Max("created")
    )
    if found["count"] < rule.threshold:
        return None
    return Match(found["count"], found["first"], found["last"])


def _matching_events(
    spec: KindSpec, subject: Subject, event: SecurityEvent, *, after: datetime, inclusive: bool = True
) -> Any:
    # Filtering on the subject's field and `created` uses the (username, created) or (ip_address, created) index.
    window = {"created__gte" if inclusive else "created__gt": after, "created__lte": event.created}
    events = SecurityEvent.objects.filter(event_type__in=spec.event_types, **{subject.field: subject.value}, **window)
    return events.filter(success=True) if spec.only_successes else events


def _latest_alert(rule: AlertRule, subject: Subject, since: datetime) -> Alert | None:
    return (
        Alert.objects.filter(rule=rule, subject=subject.value, raised_at__gte=since)
        .order_by("-raised_at", "-id")
        .first()
    )


def _add_to_open_alert(alert: Alert, event: SecurityEvent) -> None:
    # One UPDATE with F(): concurrent web instances add to the count without reading and writing it back.
    Alert.objects.filter(pk=alert.pk).update(
        event_count=F("event_count") + 1, last_event_at=Greatest("last_event_at", event.created)
    )


# ---------------------------------------------------------------------------------------------------------------
# Raising
# ---------------------------------------------------------------------------------------------------------------
def raise_alert(rule: AlertRule, spec: KindSpec, subject: Subject, match: Match, event: SecurityEvent) -> Alert:
    """Store the alert, record ALERT_RAISED, and announce it (log line and e-mail) once the transaction commits."""
    alert = Alert(
        rule=rule,
        subject=subject.value[:255],
        summary=spec.describe(rule, subject, match, event)[:500],
        event_count=match.count,
        first_event_at=match.first,
        last_event_at=match.last,
        event_ids=_triggering_event_ids(spec, subject, event, match),
    )
    alert.full_clean()
    alert.save()
    record_security_event(
        EventType.ALERT_RAISED,
        reason=alert.summary[:255],
        alert=alert.pk,
        rule=rule.name,
        severity=rule.severity,
        subject=alert.subject,
        count=alert.event_count,
    )
    # After commit: a transaction that rolls back (a Galera retry, a failed sign-in sync) must not have
    # e-mailed about an alert that does not exist. robust: an error announcing never reaches the caller.
    transaction.on_commit(partial(announce_alert, alert.pk), robust=True)
    return alert


def _triggering_event_ids(spec: KindSpec, subject: Subject, event: SecurityEvent, match: Match) -> list[int]:
    if spec.per_event:
        return [event.pk]
    events = _matching_events(spec, subject, event, after=match.first)
    return sorted(events.order_by("-created", "-id").values_list("pk", flat=True)[:MAX_EVENT_IDS])


def announce_alert(alert_id: int) -> None:
    """Write the CRITICAL security-log line and e-mail the security contacts about alert `alert_id`."""
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is None:
        return
    logger.critical(
        "security alert: %s",
        alert.summary,
        extra={
            "event": EventType.ALERT_RAISED,
            "alert_id": alert.pk,
            "rule": alert.rule.name,
            "rule_kind": alert.rule.kind,
            "severity": alert.rule.severity,
            "subject": alert.subject,
            "count": alert.event_count,
        },
    )
    email_alert(alert)


def email_alert(alert: Alert) -> int:
    """E-mail the alert to the security contacts; returns how many messages went out (0 without recipients)."""
    recipients = alert_recipients()
    if not recipients:
        logger.warning(
            "security alert %s not e-mailed: no SECURITY_ALERT_EMAILS or SECURITY_CONTACTS",
            alert.pk,
            extra={"event": "alert_not_emailed", "alert_id": alert.pk},
        )
        return 0
    severity = alert.rule.get_severity_display()
    subject = _one_line(
        f"[Atrium {settings.ATRIUM_ENV}] {severity} security alert: {alert.rule.name} — {alert.subject}"
    )
    body = "\n".join(
        [
            alert.summary,
            "",
            f"Rule: {alert.rule.name} ({alert.rule.get_kind_display()}, severity {severity.lower()})",
            f"Concerns: {alert.subject}",
            f"Matching events: {alert.event_count}, from {alert.first_event_at:%Y-%m-%d %H:%M:%S %Z} "
            f"to {alert.last_event_at:%Y-%m-%d %H:%M:%S %Z}",
            f"Raised: {alert.raised_at:%Y-%m-%d %H:%M:%S %Z} (alert {alert.pk})",
            "",
            f"Acknowledge it on Atrium's alerts page: {reverse('audit:alerts')}",
        ]
    )
    # fail_silently: a mail outage must never break the sign-in or export that raised the alert.
    return send_mail(subject[:200], body, None, recipients, fail_silently=True)


def alert_recipients() -> list[str]:
    """SECURITY_ALERT_EMAILS (deployment setting) plus the live setting SECURITY_CONTACTS, without duplicates."""
    addresses = [str(a) for a in settings.SECURITY_ALERT_EMAILS]
    try:
        contacts = str(live_setting("SECURITY_CONTACTS") or "")
    except Exception:
        # The live settings live in the database; if they cannot be read, the deployment's list still gets it.
        logger.exception("could not read SECURITY_CONTACTS", extra={"event": "alert_contacts_unreadable"})
        contacts = ""
    addresses += re.split(r"[,;\s]+", contacts)
    seen: set[str] = set()
    recipients = []
    for address in (a.strip() for a in addresses):
        if address and address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def _one_line(text: str) -> str:
    # Usernames come from the sign-in form: a line break in a mail header would be refused (or worse).
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


# ---------------------------------------------------------------------------------------------------------------
# Acknowledging
# ---------------------------------------------------------------------------------------------------------------
def acknowledge(alert: Alert, *, actor: Any, note: str = "", request: HttpRequest | None = None) -> Alert:
    """Mark `alert` as dealt with by `actor`, with an optional note; records an ALERT_ACKNOWLEDGED event.

    Raises ValidationError if the alert was already acknowledged (perhaps by someone else a moment ago).
    """
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(f"The note can be at most {MAX_NOTE_LENGTH} characters long.")

    def work() -> int:
        # A conditional UPDATE, so two people acknowledging at once cannot both succeed (no SELECT … FOR UPDATE,
        # which Galera does not honour across nodes).
        changed = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=actor, acknowledged_at=timezone.now(), acknowledgement_note=note
        )
        if changed:
            record_security_event(
                EventType.ALERT_ACKNOWLEDGED,
                request=request,
                user=actor,
                reason=f"acknowledged alert {alert.pk}",
                alert=alert.pk,
                rule=alert.rule.name,
                subject=alert.subject,
                note=note[:500],
            )
        return changed

    if not run_in_transaction(work):
        raise ValidationError("This alert has already been acknowledged.")
    alert.refresh_from_db()
    return alert
