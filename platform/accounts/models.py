"""Atrium's user model: Django's user plus the directory attributes pages and menus need."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone


class DirectorySource(models.TextChoices):
    LOCAL = "local", "Local account"
    MOCK = "mock", "Mock directory"
    LDAP = "ldap", "LDAP"
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML"


def _auditor_group_key() -> str:
    return f"accounts:auditor-group:{settings.ATRIUM_AUDITOR_GROUP}"


_auditor_memo: dict[str, tuple[float, int]] = {}
AUDITOR_MEMO_SECONDS = 30.0


def auditor_group_id() -> int | None:
    """The id of the auditors' group (0 while it does not exist), looked up on every page.

    Kept in process memory for AUDITOR_MEMO_SECONDS in front of the shared cache: the group is created once, at
    the first auditor's sign-in, and never changes afterwards.
    """
    key = _auditor_group_key()
    now = time.monotonic()
    memo = _auditor_memo.get(key)
    if memo is not None and now - memo[0] < AUDITOR_MEMO_SECONDS:
        return memo[1] or None
    cached = cache.get(key)
    if cached is None:
        cached = Group.objects.filter(name=settings.ATRIUM_AUDITOR_GROUP).values_list("pk", flat=True).first() or 0
        cache.set(key, cached, 3600)
    _auditor_memo[key] = (now, cached)
    return cached or None


@receiver([post_save, post_delete], sender=Group)
def forget_auditor_group(sender: type, **kwargs: object) -> None:
    """A group created, renamed or deleted may be the auditors' group: look it up again."""
    cache.delete(_auditor_group_key())
    _auditor_memo.clear()


class User(AbstractUser):
    """A person who signs in; groups come from the directory they signed in through."""

    department = models.CharField(max_length=150, blank=True)
    title = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=10, choices=DirectorySource.choices, default=DirectorySource.LOCAL)

    class Meta:
        ordering = ["username"]

    @property
    def is_platform_admin(self) -> bool:
        """Platform admins may do everything (superusers, mirrored from the admin group)."""
        return self.is_active and self.is_superuser

    @property
    def is_auditor(self) -> bool:
        """Auditors (members of the auditors' group) read everything, including history, and change nothing."""
        auditors = auditor_group_id()
        return bool(self.is_active and auditors and auditors in self.group_ids())

    def group_ids(self) -> list[int]:
        """The user's group ids, sorted (menus and permissions are cached by them); memoised per request."""
        cached = getattr(self, "_atrium_group_ids", None)
        if cached is None:
            cached = sorted(self.groups.values_list("id", flat=True))
            self._atrium_group_ids = cached
        return cached


class SecurityEvent(models.Model):
    """One security-relevant event: who, what, from where, with which outcome (also written to the security log)."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    event_type = models.CharField(max_length=40, db_index=True)
    success = models.BooleanField(default=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="The user, or the username that was tried.")
    method = models.CharField(max_length=20, blank=True, help_text="mock, ldap, oidc, saml, local, totp, …")
    reason = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    section_slug = models.CharField(max_length=50, blank=True, db_index=True)
    request_id = models.CharField(max_length=128, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["username", "created"]), models.Index(fields=["ip_address", "created"])]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.event_type} {self.username or '-'}"


class MirroredGroup(models.Model):
    """A Django group whose members an identity source (OIDC, SAML) manages: sign-in may add and remove them.

    An IdP only tells us the groups a person is in now, never the groups it has stopped putting them in, so each
    group it has ever reported is recorded here. At sign-in those groups are mirrored (added or removed to match
    the IdP); every other group is local to Atrium and left alone.
    """

    group = models.ForeignKey("auth.Group", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=DirectorySource.choices)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "source"], name="accounts_mirroredgroup_unique")]

    def __str__(self) -> str:
        return f"{self.group_id} from {self.source}"


class _GroupIds(models.Aggregate):
    """GROUP_CONCAT of the user's group ids (MariaDB and SQLite both have it)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s)"
    output_field = models.TextField()


def load_active_user(user_id: Any, **filters: Any) -> User | None:
    """The active user with this id, with their group ids, in one query (every page loads the user)."""
    user = (
        User.objects.filter(pk=user_id, is_active=True, **filters).annotate(_group_csv=_GroupIds("groups__id")).first()
    )
    if user is not None:
        csv = getattr(user, "_group_csv", None) or ""
        user._atrium_group_ids = sorted(int(g) for g in str(csv).split(",") if g)
    return user


# ---------------------------------------------------------------------------------------------------------------
# Personal API tokens (created, revoked and checked by accounts.tokens; used by api.authentication)
# ---------------------------------------------------------------------------------------------------------------
MAX_TOKEN_IP_RANGES = 20


class TokenScope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


def parse_ip_ranges(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The CIDR networks of a comma-separated list ("10.0.0.0/8, 192.0.2.7"); a bare address is a /32 or /128.

    Host bits are refused rather than silently cleared: "10.1.2.3/8" usually means the author meant something
    narrower than the 10.0.0.0/8 it would become.
    """
    networks = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ValidationError(
                "“%(value)s” is not an IP address or CIDR network (e.g. 10.0.0.0/8): %(error)s",
                code="invalid_ip_range",
                params={"value": part[:60], "error": exc},
            ) from None
    if len(networks) > MAX_TOKEN_IP_RANGES:
        raise ValidationError(f"At most {MAX_TOKEN_IP_RANGES} IP ranges per token.", code="too_many_ip_ranges")
    return networks


def validate_ip_ranges(text: str) -> None:
    parse_ip_ranges(text)


class ApiToken(models.Model):
    """A personal API token: never more than its user may do, and less when its scope, section or IPs say so.

    Only a keyed hash of the secret is stored (see accounts.tokens); the plaintext is shown once, at creation.
    A token is looked up by its `prefix` (the 8 characters after `atr_`, also what lists show), then the hash of
    the presented token is compared in constant time.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “nightly budget export”.")
    prefix = models.CharField(max_length=8, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(max_length=5, choices=TokenScope.choices, default=TokenScope.READ)
    # CASCADE, never SET_NULL: a token restricted to a section that goes away must not become unrestricted.
    section = models.ForeignKey(
        "tenants.Section",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Restrict the token to one section (empty: every section its user may use).",
    )
    allowed_ips = models.TextField(
        blank=True,
        validators=[validate_ip_ranges],
        help_text="Comma-separated IP addresses or CIDR networks the token may be used from (empty: anywhere).",
    )
    expires_at = models.DateTimeField()
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "created"])]

    def __str__(self) -> str:
        return f"{self.display_prefix} ({self.name})"

    @property
    def display_prefix(self) -> str:
        """How lists show the token: enough to recognise it, nothing that helps to use it."""
        return f"atr_{self.prefix}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or timezone.now())

    def is_active(self, now: datetime | None = None) -> bool:
        return not self.is_revoked and not self.is_expired(now)

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    def ip_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return parse_ip_ranges(self.allowed_ips)

    def allows_ip(self, address: str) -> bool:
        """May the token be used from `address`? Always, when it names no ranges."""
        networks = self.ip_networks()
        if not networks:
            return True
        try:
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
        except ValueError:
            return False
        # A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; the ranges are written as IPv4.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in networks)
