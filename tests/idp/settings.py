"""Settings of the test OpenID Connect provider (django-oauth-toolkit), driven by ATRIUM_IDP_* variables.

- ATRIUM_IDP_DATABASE: path of its SQLite database (a temporary directory, never Atrium's database);
- ATRIUM_IDP_KEY_FILE: PEM file of the RSA key that signs the ID tokens;
- ATRIUM_IDP_ISSUER: the issuer (`http://127.0.0.1:PORT/o`), fixed so the ID tokens' `iss` is predictable.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("ATRIUM_IDP_SECRET_KEY", "atrium-test-idp-not-a-secret")  # a test server only
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "tests.idp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ATRIUM_IDP_DATABASE", str(HERE / "idp.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

# Browsers (and requests) send cookies for 127.0.0.1 to every port, so the IdP's cookies must not share names
# with Atrium's or any other test server's.
SESSION_COOKIE_NAME = "atrium_test_idp_session"
CSRF_COOKIE_NAME = "atrium_test_idp_csrftoken"
LOGIN_URL = "/accounts/login/"
# Fast hashing: the users are test fixtures, and every sign-in checks a password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_key_file = os.environ.get("ATRIUM_IDP_KEY_FILE", "")
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": Path(_key_file).read_text() if _key_file else "",
    "OIDC_ISS_ENDPOINT": os.environ.get("ATRIUM_IDP_ISSUER", ""),
    "PKCE_REQUIRED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # With a valid id_token_hint for the signed-in user, log out without a confirmation page (as many IdPs do).
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "tests.idp.validators.TestIdPValidator",
    "SCOPES": {"openid": "OpenID Connect", "profile": "Your profile", "email": "Your e-mail address"},
    "DEFAULT_SCOPES": ["openid"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
