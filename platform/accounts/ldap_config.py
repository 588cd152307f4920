"""Builds django-auth-ldap's `AUTH_LDAP_*` settings from Atrium's `LDAP_*` environment variables.

settings.py calls `ldap_settings(os.environ)` when `ATRIUM_DIRECTORY=ldap`; the tests call it with a dict of
values, so they exercise the very code that configures production. It imports no models: settings.py runs it
before the apps are loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ldap
from django.core.exceptions import ImproperlyConfigured
from django_auth_ldap.config import (
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPGroupType,
    LDAPSearch,
    NestedGroupOfNamesType,
)
from environ import Env

DEFAULT_USER_FILTER = "(uid=%(user)s)"
DEFAULT_TIMEOUT_SECONDS = 3.0

# LDAP_GROUP_TYPE → (group type, the objectClass filter that finds groups of that type under the group base).
GROUP_TYPES: dict[str, tuple[type[LDAPGroupType], str]] = {
    "groupOfNames": (GroupOfNamesType, "(objectClass=groupOfNames)"),
    "groupOfUniqueNames": (GroupOfUniqueNamesType, "(objectClass=groupOfUniqueNames)"),
    "nested": (NestedGroupOfNamesType, "(objectClass=groupOfNames)"),
}

# Django user field → LDAP_ATTR_* variable and its default attribute (inetOrgPerson; Active Directory has the same).
ATTRIBUTE_VARIABLES = {
    "first_name": ("LDAP_ATTR_FIRST_NAME", "givenName"),
    "last_name": ("LDAP_ATTR_LAST_NAME", "sn"),
    "email": ("LDAP_ATTR_EMAIL", "mail"),
    "department": ("LDAP_ATTR_DEPARTMENT", "departmentNumber"),
    "title": ("LDAP_ATTR_TITLE", "title"),
}


def ldap_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The `AUTH_LDAP_*` settings (and the few others LDAP needs) for these environment variables.

    Raises ImproperlyConfigured naming every missing or malformed variable at once, so a deployment fails at
    start-up with one clear message rather than at the first sign-in.
    """
    reader = Env()
    reader.ENVIRON = dict(env)  # django-environ's parsing (true/false, numbers), applied to the given mapping
    problems: list[str] = []

    server_uri = reader.str("LDAP_SERVER_URI", default="").strip()
    if not server_uri:
        problems.append("LDAP_SERVER_URI is not set")
    # Several servers may be listed, separated by spaces: libldap tries them in turn (simple fail-over).
    elif not all(uri.startswith(("ldap://", "ldaps://")) for uri in server_uri.split()):
        problems.append("LDAP_SERVER_URI must be ldap:// or ldaps:// URIs, separated by spaces")

    dn_template = reader.str("LDAP_USER_DN_TEMPLATE", default="")
    user_base = reader.str("LDAP_USER_SEARCH_BASE", default="")
    user_filter = reader.str("LDAP_USER_FILTER", default=DEFAULT_USER_FILTER)
    if not dn_template and not user_base:
        problems.append("LDAP_USER_SEARCH_BASE is not set (or set LDAP_USER_DN_TEMPLATE)")
    if "%(user)s" not in (dn_template or user_filter):
        problems.append("LDAP_USER_DN_TEMPLATE or LDAP_USER_FILTER must contain %(user)s")

    group_base = reader.str("LDAP_GROUP_SEARCH_BASE", default="")
    if not group_base:
        problems.append("LDAP_GROUP_SEARCH_BASE is not set")
    group_type_name = reader.str("LDAP_GROUP_TYPE", default="groupOfNames")
    if group_type_name not in GROUP_TYPES:
        problems.append(f"LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}, not {group_type_name!r}")

    timeout = reader.float("LDAP_TIMEOUT", default=DEFAULT_TIMEOUT_SECONDS)
    if timeout <= 0:
        problems.append("LDAP_TIMEOUT must be a positive number of seconds")

    if problems:
        raise ImproperlyConfigured("LDAP is misconfigured: " + "; ".join(problems) + ".")

    group_type_class, default_group_filter = GROUP_TYPES[group_type_name]
    group_name_attr = reader.str("LDAP_GROUP_NAME_ATTR", default="cn")
    start_tls = reader.bool("LDAP_START_TLS", default=False)
    values: dict[str, Any] = {
        "AUTH_LDAP_SERVER_URI": server_uri,
        "AUTH_LDAP_BIND_DN": reader.str("LDAP_BIND_DN", default=""),
        "AUTH_LDAP_BIND_PASSWORD": reader.str("LDAP_BIND_PASSWORD", default=""),
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": connection_options(
            timeout=timeout,
            tls=start_tls or "ldaps://" in server_uri,
            ca_cert_file=reader.str("LDAP_CA_CERT_FILE", default=""),
        ),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            group_base, ldap.SCOPE_SUBTREE, reader.str("LDAP_GROUP_FILTER", default=default_group_filter)
        ),
        "AUTH_LDAP_GROUP_TYPE": group_type_class(name_attr=group_name_attr),
        # django-auth-ldap's own mirroring would drop every Django group the directory does not list, including
        # local ones; AtriumLDAPBackend mirrors only groups that exist under LDAP_GROUP_SEARCH_BASE instead.
        "AUTH_LDAP_MIRROR_GROUPS": False,
        # Attributes and groups are refreshed at every sign-in, so a change in the directory applies at once.
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_USER_ATTR_MAP": {
            field: reader.str(variable, default=default) for field, (variable, default) in ATTRIBUTE_VARIABLES.items()
        },
        # 0 by default: a cached DN or group list would make sign-in and sync_directory see an old membership.
        "AUTH_LDAP_CACHE_TIMEOUT": reader.int("LDAP_CACHE_TIMEOUT", default=0),
        # A sign-in that failed because the directory was down must not count towards a lockout: everyone would
        # be locked out for AXES_COOLOFF_HOURS after an outage, just for retrying.
        "AXES_WHITELIST_CALLABLE": "accounts.ldap_backend.failed_because_directory_unavailable",
    }
    if dn_template:
        values["AUTH_LDAP_USER_DN_TEMPLATE"] = dn_template
    else:
        # django-auth-ldap escapes the typed username before putting it in the filter (no filter injection).
        values["AUTH_LDAP_USER_SEARCH"] = LDAPSearch(user_base, ldap.SCOPE_SUBTREE, user_filter)
    return values


def connection_options(*, timeout: float, tls: bool, ca_cert_file: str = "") -> dict[int, Any]:
    """python-ldap options for every connection: bounded waits, no referral chasing, verified TLS."""
    options: dict[int, Any] = {
        # Connecting, and then each operation, gives up after `timeout` seconds, so a directory that is down or
        # hangs costs a sign-in a few seconds, never a stuck web worker.
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        # Active Directory returns referrals that libldap would follow anonymously (and slowly); never chase them.
        ldap.OPT_REFERRALS: 0,
    }
    if tls or ca_cert_file:
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        if ca_cert_file:
            options[ldap.OPT_X_TLS_CACERTFILE] = ca_cert_file
        # libldap reads the TLS options above only into a new TLS context; this must come after them (dicts keep
        # their order, and django-auth-ldap sets the options in that order).
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    return options
