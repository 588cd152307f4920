"""Seed the default alert rules (created once; platform admins tune or disable them later in the admin).

The rules are written out here rather than imported from the app, so this migration means the same thing
whatever later code does. Each rule gets a first history row, so its history starts with where it came from.
"""

from django.db import migrations
from django.utils import timezone

REASON = "Default rule shipped with Atrium"

DEFAULT_RULES = [
    {
        "name": "Repeated failed sign-ins for one account",
        "description": "Someone may be guessing this account's password. Check with the account's owner.",
        "kind": "failed_sign_ins_account",
        "threshold": 5,
        "window_minutes": 10,
        "severity": "high",
    },
    {
        "name": "Many failed sign-ins from one address",
        "description": "One machine is trying many passwords or accounts (password spraying). Check the address.",
        "kind": "failed_sign_ins_ip",
        "threshold": 20,
        "window_minutes": 10,
        "severity": "high",
    },
    {
        "name": "Account locked out",
        "description": "Sign-in throttling locked an account after repeated failures.",
        "kind": "lock_outs",
        "threshold": 1,
        "window_minutes": 15,
        "severity": "medium",
    },
    {
        "name": "Platform-admin or auditor rights granted",
        "description": "Someone joined the platform-admin or auditor group. Confirm the change was requested.",
        "kind": "rights_granted",
        "threshold": 1,
        "window_minutes": 60,
        "severity": "high",
    },
    {
        "name": "Break-glass sign-in",
        "description": "The local emergency account was used. Unless a recovery was planned, treat it as an incident.",
        "kind": "break_glass",
        "threshold": 1,
        "window_minutes": 60,
        "severity": "critical",
    },
    {
        "name": "Large export",
        "description": "An export of more than the threshold's rows. Confirm the person needed that much data.",
        "kind": "large_export",
        "threshold": 10000,
        "window_minutes": 60,
        "severity": "medium",
    },
]


def create_default_rules(apps, schema_editor):
    rule_model = apps.get_model("audit", "AlertRule")
    history_model = apps.get_model("audit", "HistoricalAlertRule")
    now = timezone.now()
    for values in DEFAULT_RULES:
        if rule_model.objects.filter(name=values["name"]).exists():
            continue
        rule = rule_model.objects.create(enabled=True, **values)
        history_model.objects.create(
            id=rule.pk,
            created=rule.created,
            updated=rule.updated,
            enabled=True,
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
            **values,
        )


def remove_default_rules(apps, schema_editor):
    rule_model = apps.get_model("audit", "AlertRule")
    # Rules that have raised alerts are kept (alerts protect their rule); the rest of the defaults go.
    rule_model.objects.filter(name__in=[r["name"] for r in DEFAULT_RULES], alerts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_default_rules, remove_default_rules)]
