"""The sync framework's models: data sources, their synced records, the audit of every change, and freshness.

- `SyncSource` is a configuration table (history, a reason on every change, written only by jobs.services):
  where one external dataset comes from, how to page and map it, when to sync it and how fresh it must be.
  Each enabled source is the job `sync.<slug>` (jobs.jobs lists them), except push sources (kind `push`), whose
  records arrive through the API (jobs.ingest) and are recorded as runs of `ingest.<slug>`.
- `SyncedRecord` is the local copy of a generic source's data (a code sync may write its own model instead).
- `SyncChange` is the audit entry of one created (+), changed (~) or deleted (-) row, with what changed.
- `RejectedRecord` keeps each record that failed validation, with the reason, for the source's owners to fix.
- `SourceFreshness` is operational state (not history-tracked): the last successful sync and the stale alert.

How a sync runs is in jobs.sync; the how-to is docs/howto/add-a-sync.md.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel

__all__ = [
    "AuthType",
    "ChangeAction",
    "DeletionPolicy",
    "Paging",
    "RejectedRecord",
    "SourceFreshness",
    "SourceKind",
    "SyncChange",
    "SyncSource",
    "SyncedRecord",
    "file_sources_allowed",
    "source_directory",
]

# A credential variable must be named SYNC_…: a source can then never be pointed at SECRET_KEY, DATABASE_URL or
# any other secret of the platform and send it to a URL of an editor's choosing.
CREDENTIAL_PREFIX = "SYNC_"
CREDENTIAL_NAME = re.compile(r"^SYNC_[A-Z0-9_]{1,60}$")
TARGET_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
DOT_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
QUERY_PARAMETER = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,50}$")
FILE_SOURCE_ENVIRONMENTS = ("dev", "test")


class SourceKind(models.TextChoices):
    REST = "rest", "Generic REST source (configured here)"
    CODE = "code", "Code (a registered Sync subclass)"
    PUSH = "push", "Push (records arrive through the API)"


class AuthType(models.TextChoices):
    NONE = "none", "None"
    BEARER = "bearer", "Bearer token (Authorization: Bearer …)"
    BASIC = "basic", "HTTP basic (user:password)"
    HEADER = "header", "API key in a header"


class Paging(models.TextChoices):
    NONE = "none", "None (one request)"
    PAGE_NUMBER = "page_number", "Page number (?page=1&page_size=…)"
    OFFSET_LIMIT = "offset_limit", "Offset and limit (?offset=0&limit=…)"
    NEXT_LINK = "next_link", "Next link (each page names the next page's URL)"


class DeletionPolicy(models.TextChoices):
    DELETE = "delete", "Delete the local row"
    MARK = "mark", "Keep the row, marked deleted"


def file_sources_allowed() -> bool:
    """`file://` sources (the demo) only in dev and test: in uat or prod they would read the server's own disk."""
    return str(getattr(settings, "ATRIUM_ENV", "dev")) in FILE_SOURCE_ENVIRONMENTS


def source_directory(url: str) -> Path:
    """The local directory a `file://` base URL names."""
    return Path(url2pathname(urlsplit(url).path))


class SyncSource(TimeStampedModel):
    """One external dataset: where it comes from, how to read and map it, when to sync it, how fresh it must be."""

    slug = models.SlugField(
        max_length=60, unique=True, help_text="Short name; the sync job is called sync.<slug>. Lowercase, hyphens."
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    section = models.ForeignKey(
        "tenants.Section",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sync_sources",
        help_text="The section that owns this data; empty: the platform.",
    )
    kind = models.CharField(max_length=10, choices=SourceKind.choices, default=SourceKind.REST)
    code_name = models.CharField(
        max_length=100, blank=True, help_text="For code sources: the name the Sync subclass is registered under."
    )

    # Where the data comes from -------------------------------------------------------------------------------------
    base_url = models.CharField(
        "base URL",
        max_length=500,
        blank=True,
        help_text="http(s) address of the first page. Never put credentials in it; use the credential variable.",
    )
    auth_type = models.CharField(max_length=10, choices=AuthType.choices, default=AuthType.NONE)
    credential_setting = models.CharField(
        "credential variable",
        max_length=64,
        blank=True,
        help_text="NAME of the environment variable (or setting) holding the secret, e.g. SYNC_AP_TOKEN; never the "
        "secret itself. Basic authentication: user:password in that variable.",
    )
    auth_header = models.CharField(
        max_length=100, blank=True, default="X-API-Key", help_text="For API-key authentication: the header's name."
    )

    # How to read it ------------------------------------------------------------------------------------------------
    paging = models.CharField(max_length=20, choices=Paging.choices, default=Paging.NONE)
    page_size = models.PositiveIntegerField(default=500, validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    page_param = models.CharField(
        max_length=50, blank=True, help_text="Query parameter of the page number or offset (default page / offset)."
    )
    size_param = models.CharField(
        max_length=50, blank=True, help_text="Query parameter of the page size (default page_size / limit)."
    )
    next_path = models.CharField(
        max_length=200, blank=True, default="next", help_text="Next-link paging: dot path to the next page's URL."
    )
    records_path = models.CharField(
        max_length=200,
        blank=True,
        help_text="Dot path to the list of records in a page, e.g. data.items; empty: the page is the list.",
    )
    total_path = models.CharField(
        max_length=200, blank=True, help_text="Optional dot path to the total number of records the source reports."
    )
    checksum_path = models.CharField(
        max_length=200,
        blank=True,
        help_text="Optional dot path to the source's checksum: sha256 (hex) of all record keys, sorted, joined by "
        "a newline.",
    )

    # What it becomes -----------------------------------------------------------------------------------------------
    key_field = models.CharField(max_length=63, help_text="The field (after mapping) that identifies a record.")
    field_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"target_field": "source.dot.path", …}; empty: keep each record as the source sends it.',
    )
    required_fields = models.JSONField(
        default=list, blank=True, help_text='["field", …]: a record missing any of these is rejected.'
    )
    deletion_policy = models.CharField(
        max_length=10,
        choices=DeletionPolicy.choices,
        default=DeletionPolicy.MARK,
        help_text="What happens to a local row whose record is no longer in the source.",
    )

    # When, and how patiently ---------------------------------------------------------------------------------------
    schedule = models.CharField(max_length=100, default="*/15 * * * *", help_text="Cron schedule of the sync job.")
    timeout_seconds = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(1), MaxValueValidator(6 * 3600)], help_text="For the whole run."
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Attempts in all when the source fails transiently (HTTP 5xx or 429, time-outs, network errors).",
    )
    request_timeout_seconds = models.FloatField(
        default=30.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(600)],
        help_text="How long to wait for the source's answer to one request.",
    )
    freshness_target_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="The data is stale (and an alert goes out) when the last successful sync is older than this.",
    )
    enabled = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def job_name(self) -> str:
        """The JobRun name of this source's work: sync.<slug> (a scheduled job), ingest.<slug> for a push source."""
        return f"ingest.{self.slug}" if self.kind == SourceKind.PUSH else f"sync.{self.slug}"

    @property
    def is_push(self) -> bool:
        return self.kind == SourceKind.PUSH

    @property
    def owner_slug(self) -> str:
        return self.section.slug if self.section is not None else ""

    # Validation ----------------------------------------------------------------------------------------------------
    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for check in (
            self._clean_kind,
            self._clean_base_url,
            self._clean_auth,
            self._clean_paging,
            self._clean_paths,
            self._clean_mapping,
            self._clean_timing,
        ):
            for field_name, message in check():
                errors.setdefault(field_name, []).append(message)
        if errors:
            raise ValidationError(errors)

    def _clean_kind(self) -> list[tuple[str, str]]:
        if self.kind == SourceKind.REST:
            return [("code_name", "Leave this empty for a generic REST source.")] if self.code_name else []
        if self.kind == SourceKind.PUSH:
            return self._clean_push()
        from .sync import registered_syncs  # the registry lives with the framework

        if not self.code_name:
            return [("code_name", "A code source needs the name its Sync subclass is registered under.")]
        if self.code_name not in registered_syncs():
            known = ", ".join(sorted(registered_syncs())) or "none"
            return [("code_name", f"No sync is registered as “{self.code_name}”. Registered: {known}.")]
        return []

    def _clean_push(self) -> list[tuple[str, str]]:
        # A push source is never fetched: an address or a credential would suggest a connection that never happens.
        problems = []
        if self.code_name:
            problems.append(("code_name", "Leave this empty for a push source."))
        if self.base_url.strip():
            problems.append(("base_url", "A push source has no address: its records arrive through the API."))
        if self.auth_type != AuthType.NONE or self.credential_setting:
            problems.append(("auth_type", "A push source sends no credential: choose None."))
        return problems

    def _clean_base_url(self) -> list[tuple[str, str]]:
        url = self.base_url.strip()
        if self.kind == SourceKind.PUSH:
            return []
        if not url:
            # A code sync may fetch by its own means; a generic source has nothing else to go on.
            return [("base_url", "A generic REST source needs an address.")] if self.kind == SourceKind.REST else []
        parts = urlsplit(url)
        if parts.scheme == "file":
            return self._clean_file_url(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return [("base_url", "Enter an http:// or https:// address, e.g. https://ap.example.com/api/invoices.")]
        if parts.username or parts.password:
            return [("base_url", "Do not put credentials in the address; name a credential variable instead.")]
        return []

    def _clean_file_url(self, url: str) -> list[tuple[str, str]]:
        if not file_sources_allowed():
            return [("base_url", "file:// sources are for dev and test only; use an http(s) address.")]
        if not source_directory(url).is_dir():
            return [("base_url", f"There is no directory {source_directory(url)} on this server.")]
        return []

    def _clean_auth(self) -> list[tuple[str, str]]:
        problems = []
        if self.auth_type == AuthType.NONE:
            if self.credential_setting:
                problems.append(("credential_setting", "No authentication is chosen: leave this empty."))
            return problems
        if not self.credential_setting:
            problems.append(("credential_setting", "Name the variable that holds the secret, e.g. SYNC_AP_TOKEN."))
        elif not CREDENTIAL_NAME.match(self.credential_setting):
            problems.append(
                (
                    "credential_setting",
                    f"Enter the NAME of a variable starting with {CREDENTIAL_PREFIX} (capitals, digits, underscores), "
                    "e.g. SYNC_AP_TOKEN; never the secret itself.",
                )
            )
        if self.auth_type == AuthType.HEADER and not HEADER_NAME.match(self.auth_header or ""):
            problems.append(("auth_header", "Enter the header's name, e.g. X-API-Key."))
        return problems

    def _clean_paging(self) -> list[tuple[str, str]]:
        problems = []
        for field_name in ("page_param", "size_param"):
            value = getattr(self, field_name)
            if value and not QUERY_PARAMETER.match(value):
                problems.append((field_name, "Letters, digits, _ . - [ ] only."))
        if self.paging == Paging.NEXT_LINK and not self.next_path:
            problems.append(("next_path", "Next-link paging needs the dot path to the next page's URL."))
        return problems

    def _clean_paths(self) -> list[tuple[str, str]]:
        return [
            (field_name, "Enter a dot path such as data.items (no spaces, no empty parts).")
            for field_name in ("records_path", "total_path", "checksum_path", "next_path")
            if getattr(self, field_name) and not DOT_PATH.match(getattr(self, field_name))
        ]

    def _clean_mapping(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        field_map = self.field_map
        if not isinstance(field_map, dict):
            return [("field_map", 'Enter a JSON object: {"target_field": "source.dot.path", …}.')]
        for target, path in field_map.items():
            if not TARGET_FIELD.match(str(target)):
                problems.append(("field_map", f"“{target}” is not a usable field name (letters, digits, _)."))
            if not isinstance(path, str) or not DOT_PATH.match(path):
                problems.append(("field_map", f"The path of “{target}” must be a dot path string, e.g. supplier.name."))
        required = self.required_fields
        if not isinstance(required, list) or not all(isinstance(name, str) and name for name in required):
            problems.append(("required_fields", 'Enter a JSON list of field names, e.g. ["invoice_number"].'))
        elif field_map:
            missing = [name for name in required if name not in field_map]
            if missing:
                problems.append(("required_fields", f"Not in the field map: {', '.join(missing)}."))
        if not self.key_field:
            problems.append(("key_field", "Name the field that identifies a record."))
        elif field_map and self.key_field not in field_map:
            problems.append(("key_field", f"“{self.key_field}” is not in the field map."))
        return problems

    def _clean_timing(self) -> list[tuple[str, str]]:
        problems = []
        if not croniter.is_valid(self.schedule or ""):
            problems.append(("schedule", f"“{self.schedule}” is not a cron schedule, e.g. */15 * * * *."))
        if (
            self.request_timeout_seconds
            and self.timeout_seconds
            and self.request_timeout_seconds >= self.timeout_seconds
        ):
            problems.append(("request_timeout_seconds", "Must be shorter than the timeout of the whole run."))
        return problems


class ChangeAction(models.TextChoices):
    CREATED = "+", "Created"
    CHANGED = "~", "Changed"
    DELETED = "-", "Deleted"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class SyncedRecord(models.Model):
    """One record of a generic source, as last synced (the portals read these, never the source)."""

    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="records")
    key = models.CharField(max_length=255)
    data = models.JSONField(default=dict)
    checksum = models.CharField(max_length=64, help_text="sha256 of the record's canonical JSON.")
    first_seen = models.DateTimeField()
    updated_at = models.DateTimeField()
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the record vanished from the source (deletion policy “mark”)."
    )

    class Meta:
        ordering = ["source", "key"]
        constraints = [models.UniqueConstraint(fields=["source", "key"], name="unique_synced_record_key")]
        indexes = [models.Index(fields=["source", "deleted_at"], name="jobs_synced_source_deleted")]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.key}"


class SyncChange(models.Model):
    """The audit entry of one row a sync created, changed or deleted: {field: [old, new]}."""

    run = models.ForeignKey(
        "jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_changes"
    )  # kept when old runs are purged: the audit outlives the run log
    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="changes")
    key = models.CharField(max_length=255)
    action = models.CharField(max_length=1, choices=ChangeAction.choices)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["source", "key"], name="jobs_syncchange_source_key")]

    def __str__(self) -> str:
        return f"{self.action} {self.source.slug}:{self.key}"


class RejectedRecord(models.Model):
    """A record a sync refused (missing fields, duplicate key …), kept with the reason for the source's owners."""

    MAX_RECORD_CHARS = 10_000

    run = models.ForeignKey("jobs.JobRun", on_delete=models.CASCADE, related_name="rejected_records")
    source = models.ForeignKey(SyncSource, on_delete=models.CASCADE, related_name="rejected_records")
    key = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)
    record = models.JSONField(default=dict, blank=True, help_text="The raw record (truncated when very large).")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.source.slug}:{self.key or '?'}: {self.reason}"

    @classmethod
    def keepable(cls, record: Any) -> Any:
        """The raw record as stored: itself if small, else the start of its JSON (a huge record must not bloat)."""
        text = json.dumps(record, default=str, ensure_ascii=False)
        if len(text) <= cls.MAX_RECORD_CHARS:
            return _jsonable(record)
        return {"_truncated": text[: cls.MAX_RECORD_CHARS], "_length": len(text)}


class SourceFreshness(models.Model):
    """When a source last synced successfully, and the state of its stale alert (operational, no history)."""

    source = models.OneToOneField(SyncSource, on_delete=models.CASCADE, related_name="freshness")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey("jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_row_count = models.PositiveIntegerField(default=0)
    stale_since = models.DateTimeField(null=True, blank=True)
    stale_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "source freshness"

    def __str__(self) -> str:
        return f"{self.source.slug}: {'stale' if self.is_stale else 'fresh'}"

    @property
    def target(self) -> timedelta:
        return timedelta(minutes=self.source.freshness_target_minutes)

    @property
    def is_stale(self) -> bool:
        """No successful sync yet, or the last one is older than the source's freshness target."""
        return self.last_success_at is None or self.last_success_at < timezone.now() - self.target

    def overdue_since(self) -> datetime:
        """When the data became stale; a source that never synced gets its target as grace from its creation."""
        return (self.last_success_at or self.source.created) + self.target
