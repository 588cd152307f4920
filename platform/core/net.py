"""The real client address of a request, trusting forwarding headers only from configured proxies.

Behind F5 and nginx, REMOTE_ADDR is the proxy; X-Forwarded-For holds the chain. Only hops that are listed in
TRUSTED_PROXIES (CIDR networks) may vouch for the address before them, so a client cannot spoof its address by
sending its own X-Forwarded-For.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent this request, as far as trusted proxies can tell."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted(remote):
        return remote
    forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(forwarded):
        if not _valid(hop):
            return remote
        if not _is_trusted(hop):
            return hop
    return forwarded[0] if forwarded else remote
