"""Personal API tokens: create (the plaintext is returned once), revoke, and authenticate a presented token.

A token reads `atr_<prefix><secret>`: `atr_` lets secret scanners and people recognise it, the 8-character prefix
finds the row (and is what lists show), the 40-character secret (about 238 bits) is what makes it unguessable.
Only a keyed hash is stored: HMAC-SHA256 of the whole token with a key derived from SECRET_KEY. A slow password
hasher would add its cost to every API request and buys nothing for a random secret this long, while the key
means a copy of the database alone cannot be used to test guesses. Rotating SECRET_KEY keeps tokens working as
long as the old key is listed in SECRET_KEY_FALLBACKS.

Every write runs through `run_in_transaction` (Galera) and records a TOKEN_CREATED or TOKEN_REVOKED security event.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from core.security import EventType, record_security_event
from core.services import run_in_transaction
from tenants.models import Section

from .models import ApiToken, TokenScope, parse_ip_ranges

logger = logging.getLogger("atrium.security")

TOKEN_MARKER = "atr_"  # noqa: S105 - the public marker every token starts with, not a secret
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
TOKEN_LENGTH = len(TOKEN_MARKER) + PREFIX_LENGTH + SECRET_LENGTH
_ALPHABET = string.ascii_letters + string.digits
# A fixed salt per use of SECRET_KEY (Django's rule for salted_hmac), so this hash is useless anywhere else.
_HASH_SALT = "atrium.accounts.ApiToken"
# Recording the last use costs a write; once a minute is precise enough to tell a live token from a dead one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A token chosen by date in the form expires at the end of that day, up to a day after max days from now.
_EXPIRY_GRACE = timedelta(days=1)
_SCOPE_RANK = {TokenScope.READ: 0, TokenScope.WRITE: 1}


class TokenRejected(Exception):
    """A presented token cannot be used. `detail` is safe to show to the caller; `reason` goes to the logs."""

    def __init__(self, detail: str, *, reason: str, token: ApiToken | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason
        self.token = token


@dataclass(frozen=True)
class NewToken:
    """A token just created: the row, and the plaintext that is never available again."""

    token: ApiToken
    plaintext: str


# ---------------------------------------------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------------------------------------------
def hash_token(plaintext: str, key: str | None = None) -> str:
    """The stored form of a token: HMAC-SHA256 keyed with SECRET_KEY (or `key`), as 64 hex characters."""
    return salted_hmac(_HASH_SALT, plaintext, key, algorithm="sha256").hexdigest()


def _hash_matches(plaintext: str, stored: str) -> bool:
    # The current key first, then the fallbacks, so a SECRET_KEY rotation does not break every integration.
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(hash_token(plaintext, key), stored) for key in keys)


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


# ---------------------------------------------------------------------------------------------------------------
# Limits: how long a token may live, where it may be restricted to
# ---------------------------------------------------------------------------------------------------------------
def max_token_days() -> int:
    return int(settings.API_TOKEN_MAX_DAYS)


def default_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=int(settings.API_TOKEN_DEFAULT_DAYS))


def token_sections(user: Any) -> QuerySet[Section]:
    """The sections `user` may restrict a token to: those they may visit (a token never reaches further)."""
    from tenants.permissions import visitable_sections

    return Section.objects.filter(pk__in=[section.pk for section in visitable_sections(user)])


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included (they explain past API calls)."""
    return ApiToken.objects.filter(user=user).select_related("section")


def _check_expiry(expires_at: datetime, now: datetime) -> None:
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + timedelta(days=max_token_days()) + _EXPIRY_GRACE:
        raise ValidationError({"expires_at": f"A token can live at most {max_token_days()} days."})


def _check_within_creator(
    creator: ApiToken, *, scope: str, section: Section | None, allowed_ips: str, expires_at: datetime
) -> None:
    """A token that creates a token cannot hand out more than it holds: scope, section, addresses, lifetime."""
    errors: dict[str, str] = {}
    if _SCOPE_RANK[TokenScope(scope)] > _SCOPE_RANK[TokenScope(creator.scope)]:
        errors["scope"] = f"A token with scope {creator.scope} cannot create a token with scope {scope}."
    if creator.section_id is not None and (section is None or section.pk != creator.section_id):
        errors["section"] = "A token restricted to a section can only create tokens restricted to the same section."
    creator_networks = creator.ip_networks()
    if creator_networks:
        networks = parse_ip_ranges(allowed_ips)
        if not networks or not all(_within_any(net, creator_networks) for net in networks):
            errors["allowed_ips"] = "The IP ranges must lie within those of the token that creates it."
    if expires_at > creator.expires_at:
        errors["expires_at"] = "The new token cannot outlive the token that creates it."
    if errors:
        raise ValidationError(errors)


def _within_any(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    outer: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    return any(network.version == o.version and network.subnet_of(o) for o in outer)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------------
def create_token(
    user: Any,
    *,
    name: str,
    scope: str = TokenScope.READ,
    expires_at: datetime | None = None,
    section: Section | None = None,
    allowed_ips: str = "",
    request: HttpRequest | None = None,
    creator_token: ApiToken | None = None,
) -> NewToken:
    """Create a token for `user` and return it with its plaintext, which is not stored and cannot be shown again.

    Refused (ValidationError, by field) when the expiry is in the past or beyond API_TOKEN_MAX_DAYS, the section is
    one the user may not visit, the IP ranges do not parse, or, when another token creates it (`creator_token`),
    it would reach further than that token.
    """
    now = timezone.now()
    if expires_at is None:
        # By default a token made by a token ends with it at the latest: asking for no date is not asking for more.
        expires_at = default_expiry(now)
        if creator_token is not None:
            expires_at = min(expires_at, creator_token.expires_at)
    allowed_ips = ", ".join(str(net) for net in parse_ip_ranges(allowed_ips))
    _check_expiry(expires_at, now)
    if section is not None and not token_sections(user).filter(pk=section.pk).exists():
        raise ValidationError({"section": "You cannot restrict a token to a section you may not visit."})
    if creator_token is not None:
        _check_within_creator(
            creator_token, scope=scope, section=section, allowed_ips=allowed_ips, expires_at=expires_at
        )

    def work() -> NewToken:
        prefix, secret = _random(PREFIX_LENGTH), _random(SECRET_LENGTH)
        plaintext = f"{TOKEN_MARKER}{prefix}{secret}"
        token = ApiToken(
            user=user,
            name=name.strip(),
            prefix=prefix,
            secret_hash=hash_token(plaintext),
            scope=scope,
            section=section,
            allowed_ips=allowed_ips,
            expires_at=expires_at,
        )
        token.full_clean()
        token.save()
        record_security_event(
            EventType.TOKEN_CREATED,
            request=request,
            user=user,
            method="token" if creator_token is not None else "",
            reason=f"API token {token.display_prefix} “{token.name}” created",
            token_id=token.pk,
            prefix=prefix,
            scope=scope,
            section=section.slug if section is not None else "",
            allowed_ips=allowed_ips,
            expires_at=expires_at.isoformat(),
            created_by_token=creator_token.prefix if creator_token is not None else "",
        )
        return NewToken(token=token, plaintext=plaintext)

    # A prefix collision (one in 62^8) fails the unique index; a fresh prefix is drawn on the next attempt.
    for attempt in range(3):
        try:
            return run_in_transaction(work)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def revoke_token(token: ApiToken, *, actor: Any, request: HttpRequest | None = None) -> ApiToken:
    """Revoke `token` now (idempotent: revoking a revoked token changes nothing and records nothing)."""

    def work() -> bool:
        now = timezone.now()
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if changed:
            token.revoked_at = now
            record_security_event(
                EventType.TOKEN_REVOKED,
                request=request,
                user=actor,
                reason=f"API token {token.display_prefix} “{token.name}” revoked",
                token_id=token.pk,
                prefix=token.prefix,
                owner=token.user.get_username(),
            )
        return bool(changed)

    if not run_in_transaction(work):
        token.refresh_from_db(fields=["revoked_at"])
    return token


# ---------------------------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------------------------
def authenticate_token(plaintext: str, *, client_ip: str, now: datetime | None = None) -> ApiToken:
    """The active token `plaintext` names, usable from `client_ip`; TokenRejected says why not.

    Whether a token is revoked or expired is only said once the secret has matched, so the answers tell a guesser
    nothing about which prefixes exist.
    """
    now = now or timezone.now()
    if len(plaintext) != TOKEN_LENGTH or not plaintext.startswith(TOKEN_MARKER):
        raise TokenRejected("The token is not valid.", reason="malformed token")
    prefix = plaintext[len(TOKEN_MARKER) : len(TOKEN_MARKER) + PREFIX_LENGTH]
    token = ApiToken.objects.select_related("user", "section").filter(prefix=prefix).first()
    if token is None or not _hash_matches(plaintext, token.secret_hash):
        raise TokenRejected("The token is not valid.", reason="unknown token")
    if token.is_revoked:
        raise TokenRejected("The token has been revoked.", reason="revoked token", token=token)
    if token.is_expired(now):
        raise TokenRejected(
            f"The token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC.", reason="expired token", token=token
        )
    if not token.user.is_active:
        raise TokenRejected("The token's user is deactivated.", reason="inactive user", token=token)
    if not token.allows_ip(client_ip):
        raise TokenRejected(f"The token may not be used from {client_ip}.", reason="address not allowed", token=token)
    record_use(token, client_ip=client_ip, now=now)
    return token


def record_use(token: ApiToken, *, client_ip: str, now: datetime) -> None:
    """Note the token's last use, at most once a minute; a failure here must never fail the API call."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    try:
        run_in_transaction(
            lambda: ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=client_ip or None),
            retries=1,
        )
    except DatabaseError:
        # Two nodes recording the same token's use at once: one loses the Galera certification. Harmless.
        logger.warning("Could not record the last use of API token %s.", token.prefix, exc_info=True)
        return
    token.last_used_at = now
