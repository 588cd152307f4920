"""Page views and time on page as recorded (raw), and the daily aggregates the dashboards and the API read.

Raw rows: `PageView` (one per page a signed-in user opened) and `PageTime` (one per beacon: how long the page
was visible, merged into its view by the aggregation job). Aggregates, recomputed per day by the job:
`DailyPageStat` (per day, section and path), `DailyTransition` (per day, section and step from → to) and
`DailySectionStat` (per day and section, plus one "platform pages" and one "all" row a day).

Deviation from "a model that belongs to a section inherits SectionScopedModel" (recorded here, as the design asks):
these are records, not configuration, their section may be empty (platform pages), and nobody reads them through
a request's current section: the dashboards (/analytics/<slug>/) and the API run without one and the jobs read
every section. So they keep a plain `section` foreign key and a plain manager, and every read names its sections
explicitly through `analytics.access`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from tenants.models import Section

# Upper edges (ms) of the time-on-page histogram kept with every aggregate; one more bucket holds the rest.
# A median over a date range is read from the summed histograms (daily medians cannot be combined).
DURATION_BUCKETS_MS = (
    1_000,
    2_000,
    3_000,
    5_000,
    7_000,
    10_000,
    15_000,
    20_000,
    30_000,
    45_000,
    60_000,
    90_000,
    120_000,
    180_000,
    300_000,
    600_000,
    1_200_000,
    1_800_000,
    3_600_000,
)


def empty_histogram() -> list[int]:
    return [0] * (len(DURATION_BUCKETS_MS) + 1)


class PageView(models.Model):
    """One page a signed-in user opened: who (the user until the privacy period ends, the pseudonym always),
    where, from which page of the portal, when, how fast the server answered and, once a beacon arrived, for how
    long the page was visible."""

    public_id = models.UUIDField(
        unique=True, default=uuid.uuid4, editable=False, help_text="The id the page's beacon names (signed)."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty once the view is older than ANALYTICS_PSEUDONYMISE_DAYS.",
    )
    pseudonym = models.CharField(
        max_length=32, help_text="A keyed hash of the user id: counts unique users without naming them."
    )
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    route_name = models.CharField(max_length=200, blank=True)
    path = models.CharField(max_length=500)
    referrer_path = models.CharField(
        max_length=500, blank=True, help_text="The portal page the user came from (same origin only)."
    )
    started = models.DateTimeField(db_index=True)
    response_ms = models.PositiveIntegerField(help_text="How long the server took to answer.")
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time on page, from its beacon.")

    class Meta:
        ordering = ["-started", "-id"]
        # Few indexes: every one costs on each buffered INSERT. `started` (retention, the aggregation's day range),
        # `public_id` (the beacons' merge), the user (pseudonymisation, deleting a user) and this one:
        indexes = [
            # The headline "unique users in the range" reads only this index (a covering range scan).
            models.Index(fields=["section", "started", "pseudonym"], name="analytics_view_section_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.path} at {self.started:%Y-%m-%d %H:%M:%S}"


class PageTime(models.Model):
    """What one beacon said: the page `view_id` was visible for `ms`. Buffered like the views and merged into
    PageView.duration_ms by the aggregation job, because the beacon may reach another web instance before the
    view itself has left its instance's buffer."""

    view_id = models.UUIDField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    ms = models.PositiveIntegerField()
    received = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.view_id}: {self.ms} ms"


class DailyPageStat(models.Model):
    """One path of one section on one day: views, daily unique users, visits that began or ended there, and time
    on page (median of the day, total, and the histogram that ranges are combined from)."""

    day = models.DateField()
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    route_name = models.CharField(max_length=200, blank=True)
    views = models.PositiveIntegerField(default=0)
    unique_users = models.PositiveIntegerField(default=0, help_text="Distinct users that day (not summable).")
    entries = models.PositiveIntegerField(default=0, help_text="Visits that started on this page.")
    exits = models.PositiveIntegerField(default=0, help_text="Visits that ended on this page.")
    timed_views = models.PositiveIntegerField(default=0, help_text="Views with a time on page.")
    total_duration_ms = models.PositiveBigIntegerField(default=0)
    median_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_histogram = models.JSONField(default=empty_histogram)

    class Meta:
        ordering = ["-day", "section_id", "path"]
        indexes = [
            models.Index(fields=["section", "day"], name="analytics_page_section_idx"),
            models.Index(fields=["day", "path"], name="analytics_page_day_path_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.path}: {self.views} views"


class DailyTransition(models.Model):
    """How often, on one day, users went from one page to the next within a visit; the section is that of the
    page they left."""

    day = models.DateField()
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    from_path = models.CharField(max_length=500)
    to_path = models.CharField(max_length=500)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "-count"]
        indexes = [models.Index(fields=["section", "day"], name="analytics_trans_section_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.from_path} → {self.to_path}: {self.count}"


class StatScope(models.TextChoices):
    SECTION = "section", "One section"
    PLATFORM = "platform", "Platform pages (no section)"
    ALL = "all", "Everything"


class DailySectionStat(models.Model):
    """One section's day (or the platform pages', or everything's): views, visits, daily unique users and time on
    page. The "all" row exists because unique users cannot be added up across sections."""

    day = models.DateField()
    scope = models.CharField(max_length=10, choices=StatScope.choices, default=StatScope.SECTION)
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    views = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    unique_users = models.PositiveIntegerField(default=0, help_text="Distinct users that day (not summable).")
    timed_views = models.PositiveIntegerField(default=0)
    total_duration_ms = models.PositiveBigIntegerField(default=0)
    median_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_histogram = models.JSONField(default=empty_histogram)

    class Meta:
        ordering = ["-day", "scope", "section_id"]
        indexes = [
            models.Index(fields=["section", "day"], name="analytics_sect_section_idx"),
            models.Index(fields=["scope", "day"], name="analytics_sect_scope_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.section_id or self.scope}: {self.views} views"


class AnalyticsOptOut(models.Model):
    """A user who asked not to be recorded (honoured while the live setting ANALYTICS_ALLOW_OPT_OUT is on).

    A row of its own rather than a field on the user or their preferences: those belong to other apps, and the
    page views, beacons and dashboards that care about it are all here.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "analytics opt-out"

    def __str__(self) -> str:
        return f"Opt-out of user {self.user_id}"
