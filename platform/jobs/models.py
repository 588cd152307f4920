"""Job runs and job leases.

A `JobLease` row is the cluster-wide "one runner at a time" lock: on Galera, GET_LOCK and SELECT … FOR UPDATE are
node-local, but a committed write to one row is certified cluster-wide, so two nodes can never both commit the
same lease (see jobs.leases). A `JobRun` is one run of one job, written when it starts (so a run that is killed
stays visible) and completed when it ends. A `JobRequest` is someone's request to run a job now (from the API):
web instances never run jobs, so the request waits until the job `jobs.run-requested` on a job server picks it up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobLease(models.Model):
    """Who holds a job right now, until when. The row's existence (and expiry) is the lock."""

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=200, help_text="host:pid:token of the runner holding the lease.")
    host = models.CharField(max_length=100)
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.host} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class Outcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCESS = "success", "Succeeded"
    FAILED = "failed", "Failed"
    TIMEOUT = "timeout", "Timed out"
    LOST = "lost", "Lost (runner died)"


class JobRun(models.Model):
    """One run of one job: when, where, how it ended, how many rows, and the error if any."""

    job = models.CharField(max_length=100, db_index=True)
    section_slug = models.CharField(max_length=50, blank=True, db_index=True, help_text="Owner; empty: platform.")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True, help_text="The traceback of the last failure.")
    host = models.CharField(max_length=100)
    pid = models.PositiveIntegerField()
    checks = models.JSONField(default=dict, blank=True, help_text="Consistency checks after the run.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "started_at"])]

    def __str__(self) -> str:
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome}"

    @property
    def succeeded(self) -> bool:
        return self.outcome == Outcome.SUCCESS


class JobRequest(models.Model):
    """A request to run a job now: who asked, when and why; when a job server picked it up, and the run it made.

    `pending` holds the job's name while the request waits and is cleared when it is picked up. It is unique, so
    there is at most one pending request per job, cluster-wide: a second request made while one waits (on any web
    instance, on any Galera node) fails its insert and answers with the waiting one, and requests do not pile up.
    """

    job = models.CharField(max_length=100, db_index=True)
    section_slug = models.CharField(max_length=50, blank=True, db_index=True, help_text="Owner; empty: platform.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=200)
    pending = models.CharField(max_length=100, null=True, blank=True, unique=True, editable=False)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    run = models.ForeignKey(JobRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    message = models.CharField(max_length=500, blank=True, help_text="What the job server did with the request.")

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.job} requested at {self.requested_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_pending(self) -> bool:
        return self.picked_up_at is None


# The sync framework's models (sources, synced records, changes, freshness) live in their own module.
from .sync_models import *  # noqa: E402,F403
