"""Alert rules (admin-editable, with history) and the alerts they raise from security events.

An `AlertRule` says which pattern of security events is suspicious (so many failed sign-ins for one account
within so many minutes, a platform-admin grant, an export of more than so many rows, …). When the events
recorded in `accounts.SecurityEvent` match a rule, `audit.alerts` raises an `Alert`: a row here, a CRITICAL
line in the security log stream and an e-mail to the security contacts.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel

# The longest window a rule may look back over: a week. Longer windows would make the count query scan a large
# part of the security-event table on every matching event.
MAX_WINDOW_MINUTES = 7 * 24 * 60


class RuleKind(models.TextChoices):
    """The patterns the evaluation service knows how to match (see audit.alerts.KIND_SPECS)."""

    FAILED_SIGN_INS_ACCOUNT = "failed_sign_ins_account", "Failed sign-ins for one account"
    FAILED_SIGN_INS_IP = "failed_sign_ins_ip", "Failed sign-ins from one IP address"
    LOCK_OUTS = "lock_outs", "Lock-outs of one account"
    RIGHTS_GRANTED = "rights_granted", "Platform-admin or auditor rights granted"
    BREAK_GLASS = "break_glass", "Break-glass sign-in"
    LARGE_EXPORT = "large_export", "Export larger than the threshold (rows)"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class AlertRule(TimeStampedModel):
    """One suspicious pattern and its thresholds; platform admins edit it in the admin, every change is kept."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, help_text="What the rule catches and what to do about it.")
    kind = models.CharField(max_length=40, choices=RuleKind.choices)
    threshold = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1, "The threshold must be at least 1.")],
        help_text=(
            "How many matching events within the window raise an alert. For “export larger than the threshold” "
            "it is the number of rows an export must exceed."
        ),
    )
    window_minutes = models.PositiveIntegerField(
        default=10,
        validators=[
            MinValueValidator(1, "The window must be at least 1 minute."),
            MaxValueValidator(
                MAX_WINDOW_MINUTES, f"The window can be at most {MAX_WINDOW_MINUTES} minutes (one week)."
            ),
        ],
        help_text=(
            "How far back events are counted, in minutes; also how long one open alert covers the same "
            "account, address or user before another may be raised."
        ),
    )
    enabled = models.BooleanField(default=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """An alert raised by a rule: what it concerns, how many events, and whether someone has dealt with it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    raised_at = models.DateTimeField(auto_now_add=True, db_index=True)
    subject = models.CharField(
        max_length=255, help_text="The account, IP address or user the alert concerns (depends on the rule)."
    )
    summary = models.CharField(max_length=500)
    event_count = models.PositiveIntegerField(
        default=0, help_text="Matching events: those that raised the alert, plus any that followed while it was open."
    )
    first_event_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    event_ids = models.JSONField(default=list, blank=True, help_text="Ids of the security events that raised it.")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledgement_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        # The storm check ("an open alert for this rule and subject in the window?") reads this index.
        indexes = [models.Index(fields=["rule", "subject", "raised_at"])]

    def __str__(self) -> str:
        return f"{self.rule} — {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.first_event_at and self.last_event_at and self.first_event_at > self.last_event_at:
            errors["last_event_at"] = "The last event cannot come before the first one."
        if not isinstance(self.event_ids, list) or not all(isinstance(i, int) for i in self.event_ids):
            errors["event_ids"] = "The event ids must be a list of whole numbers."
        # Only "who without when" is wrong: the acknowledging user may later be deleted (SET_NULL).
        if self.acknowledged_by_id is not None and self.acknowledged_at is None:
            errors["acknowledged_at"] = "An acknowledged alert needs the time it was acknowledged."
        if errors:
            raise ValidationError(errors)
