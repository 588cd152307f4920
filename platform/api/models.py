"""The API's own table: one ApiUsage row per API call (who, with which token, what, how it went, how long)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiUsage(models.Model):
    """One call to the API. Written best-effort after the response is built (see api.usage); purged by retention.

    The user's name and the token's prefix are copied, so the row still says who called after the user or the
    token is gone.
    """

    at = models.DateTimeField(db_index=True, help_text="When the call arrived.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    token = models.ForeignKey("accounts.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token_prefix = models.CharField(max_length=8, blank=True)
    method = models.CharField(max_length=10)
    route = models.CharField(max_length=300, help_text="The URL pattern, e.g. /api/v1/sections/<int:pk>/.")
    path = models.CharField(max_length=500, help_text="The path as called (truncated).")
    view_name = models.CharField(max_length=200, blank=True)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "API call"
        # Few indexes on purpose: every API call inserts a row. The usage page filters by user or route and reads
        # newest first; retention deletes by age.
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["route", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.path} {self.status}"
