"""pysaml2's service-provider configuration for SAML sign-in, built from Atrium's SAML_* settings.

`saml_config(values)` turns the settings into djangosaml2's SAML_CONFIG (settings.py calls it when SAML_ENABLED is
on; the tests call it too, so they test the production configuration). `load_sp_config` is djangosaml2's
SAML_CONFIG_LOADER: it keeps the IdP's metadata in memory for a while instead of fetching it on every request.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

logger = logging.getLogger("atrium.saml")

# Where djangosaml2's endpoints live (accounts/urls.py includes accounts/saml_urls.py under /accounts/saml2/).
# Settings are read before URLs can be reversed, so the paths are spelled out here; a test checks they match.
ACS_PATH = "/accounts/saml2/acs/"
LOGOUT_SERVICE_PATH = "/accounts/saml2/ls/"
LOGOUT_SERVICE_POST_PATH = "/accounts/saml2/ls/post/"

# Seconds the IdP's metadata is reused before it is fetched again (AD FS rolls its signing certificate over by
# publishing the new one in its metadata first, so it must be re-read regularly, but not on every sign-in).
DEFAULT_METADATA_REFRESH_SECONDS = 3600


def saml_config(values: Mapping[str, Any], *, deployed: bool = False) -> dict[str, Any]:
    """djangosaml2's SAML_CONFIG from the SAML_* settings in `values`; ImproperlyConfigured says what is wrong.

    Signed assertions are always required, unsolicited (IdP-initiated) responses are refused, and only keys found
    in the IdP's metadata are trusted. `deployed` (uat, prod) also requires HTTPS for the portal and the metadata.
    """
    metadata_url = str(values.get("SAML_IDP_METADATA_URL") or "")
    metadata_file = str(values.get("SAML_IDP_METADATA_FILE") or "")
    entity_id = str(values.get("SAML_SP_ENTITY_ID") or "")
    base_url = str(values.get("SAML_SP_BASE_URL") or "").rstrip("/")
    key_file = str(values.get("SAML_SP_KEY_FILE") or "")
    cert_file = str(values.get("SAML_SP_CERT_FILE") or "")
    xmlsec = str(values.get("SAML_XMLSEC_BINARY") or shutil.which("xmlsec1") or "/usr/bin/xmlsec1")

    problems = []
    if bool(metadata_url) == bool(metadata_file):
        problems.append("set exactly one of SAML_IDP_METADATA_URL and SAML_IDP_METADATA_FILE")
    if metadata_file and not Path(metadata_file).is_file():
        problems.append(f"SAML_IDP_METADATA_FILE {metadata_file} does not exist")
    if not entity_id:
        problems.append("SAML_SP_ENTITY_ID is empty (e.g. https://atrium.example.com/accounts/saml2/metadata/)")
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
        problems.append("SAML_SP_BASE_URL must be the portal's public URL, e.g. https://atrium.example.com")
    # The key signs AuthnRequests and LogoutRequests (AD FS refuses unsigned logout requests) and decrypts
    # encrypted assertions, so there is no SAML without it.
    for name, path in (("SAML_SP_KEY_FILE", key_file), ("SAML_SP_CERT_FILE", cert_file)):
        if not path:
            problems.append(f"{name} is empty")
        elif not Path(path).is_file():
            problems.append(f"{name} {path} does not exist")
    if not Path(xmlsec).is_file():
        problems.append(f"xmlsec1 was not found at {xmlsec} (install the xmlsec1 package or set SAML_XMLSEC_BINARY)")
    if deployed:
        if urlsplit(base_url).scheme != "https":
            problems.append("SAML_SP_BASE_URL must use https in uat and prod")
        if metadata_url and urlsplit(metadata_url).scheme != "https":
            problems.append("SAML_IDP_METADATA_URL must use https in uat and prod (it carries the IdP's keys)")
    if problems:
        raise ImproperlyConfigured("SAML_ENABLED is on, but " + "; ".join(problems) + ".")

    want_response_signed = bool(values.get("SAML_WANT_RESPONSE_SIGNED", False))
    return {
        "entityid": entity_id,
        "xmlsec_binary": xmlsec,
        # Attributes keep the IdP's names when pysaml2 has no friendlier one (AD FS claim URIs, "groups").
        "allow_unknown_attributes": True,
        "accepted_time_diff": int(values.get("SAML_CLOCK_SKEW_SECONDS", 60)),
        "http_client_timeout": 10,
        "metadata": {"remote": [{"url": metadata_url}]} if metadata_url else {"local": [metadata_file]},
        "service": {
            "sp": {
                "name": "Atrium",
                "endpoints": {
                    "assertion_consumer_service": [(base_url + ACS_PATH, BINDING_HTTP_POST)],
                    "single_logout_service": [
                        (base_url + LOGOUT_SERVICE_PATH, BINDING_HTTP_REDIRECT),
                        (base_url + LOGOUT_SERVICE_POST_PATH, BINDING_HTTP_POST),
                    ],
                },
                # The assertion must always be signed (AD FS's default, "SignAssertion"); the response around it
                # may be required to be signed too.
                "want_assertions_signed": True,
                "want_response_signed": want_response_signed,
                "want_assertions_or_response_signed": True,
                # A response must answer a request this browser made: no IdP-initiated sign-in, no replays.
                "allow_unsolicited": False,
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "logout_responses_signed": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "force_authn": False,
            }
        },
        "key_file": key_file,
        "cert_file": cert_file,
        # The same key pair decrypts assertions when the IdP encrypts them (AD FS does when it knows a certificate).
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "only_use_keys_in_metadata": True,
        "debug": 0,
    }


_metadata_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, Any]] = {}


def clear_metadata_cache() -> None:
    """Forget the IdP metadata held in memory (the next sign-in fetches it again)."""
    with _metadata_lock:
        _metadata_cache.clear()


def load_sp_config(request: HttpRequest | None = None) -> SPConfig:
    """djangosaml2's SAML_CONFIG_LOADER: settings.SAML_CONFIG, with the IdP metadata reused for a while.

    djangosaml2's default loader fetches the metadata on every SAML request. Here it is fetched at most every
    SAML_IDP_METADATA_REFRESH_SECONDS per process; if a refresh fails, the copy in memory is kept and the
    failure logged, so an IdP whose metadata endpoint is down can still sign people in.
    """
    raw: dict[str, Any] = copy.deepcopy(settings.SAML_CONFIG)
    metadata_conf = raw.pop("metadata", None)
    if not metadata_conf:
        raise ImproperlyConfigured("SAML_CONFIG has no IdP metadata (is SAML_ENABLED on and configured?).")
    config = SPConfig()
    config.load(raw)
    # pysaml2 checks the signature of an incoming request (for an SP: an IdP-initiated LogoutRequest, by either
    # binding) only when this IdP-side option is set, so it is set here: unsigned logout requests are refused.
    config.setattr("idp", "want_authn_requests_signed", True)
    config.metadata = _metadata(config, metadata_conf)
    return config


def _metadata(config: SPConfig, metadata_conf: dict[str, Any]) -> Any:
    key = json.dumps(metadata_conf, sort_keys=True)
    max_age = int(getattr(settings, "SAML_IDP_METADATA_REFRESH_SECONDS", DEFAULT_METADATA_REFRESH_SECONDS))
    with _metadata_lock:
        cached = _metadata_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return cached[1]
        try:
            store = config.load_metadata(metadata_conf)
        except Exception:
            if cached is None:
                raise
            logger.warning("Could not refresh the SAML IdP metadata; using the copy loaded earlier.", exc_info=True)
            # Try again after a minute rather than on every request while the IdP's endpoint is down.
            _metadata_cache[key] = (time.monotonic() - max_age + 60, cached[1])
            return cached[1]
        _metadata_cache[key] = (time.monotonic(), store)
        return store
