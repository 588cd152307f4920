"""Atrium's one settings module, driven by environment variables (django-environ).

`ATRIUM_ENV` picks the environment: `dev` (default), `test`, `uat` or `prod`. The defaults serve development
(SQLite under var/, local-memory cache, the mock directory); `DATABASE_URL`, `REDIS_URL` and the `LDAP_*`
variables switch to the real services. uat and prod refuse to start with unsafe values (see `_refuse_unsafe`).
"""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.logging import logging_config
from themes.packages import static_dirs as theme_static_dirs

# ---------------------------------------------------------------------------------------------------------------
# Paths and environment
# ---------------------------------------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parents[2]
PLATFORM_DIR = BASE_DIR / "platform"
VAR_DIR = Path(environ.Env().str("ATRIUM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
_env_file = BASE_DIR / ".env"
# The test harness sets ATRIUM_READ_DOT_ENV=false so a developer's .env cannot change what the tests test.
if _env_file.exists() and environ.Env().bool("ATRIUM_READ_DOT_ENV", default=True):
    environ.Env.read_env(str(_env_file))

ATRIUM_ENV = env.str("ATRIUM_ENV", default="dev")
ATRIUM_ENVIRONMENTS = ("dev", "test", "uat", "prod")
if ATRIUM_ENV not in ATRIUM_ENVIRONMENTS:
    raise ImproperlyConfigured(f"ATRIUM_ENV must be one of {', '.join(ATRIUM_ENVIRONMENTS)}, not {ATRIUM_ENV!r}.")
IS_DEPLOYED = ATRIUM_ENV in ("uat", "prod")
if not IS_DEPLOYED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # development SQLite database, static and media files

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DEBUG", default=ATRIUM_ENV == "dev")

INSECURE_DEFAULT_SECRET_KEY = "django-insecure-atrium-development-only-never-use-in-uat-or-prod"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEFAULT_SECRET_KEY)
# Old keys kept during a rotation (comma-separated): sessions, signed values and API tokens made with them stay
# valid until the list is emptied (docs/runbooks/rotating-secrets.md). A leaked key never goes here.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_DEPLOYED else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The role of this instance: web instances serve pages, job servers run `manage.py run_job`.
ATRIUM_ROLE = env.str("ATRIUM_ROLE", default="all")

# ---------------------------------------------------------------------------------------------------------------
# Applications  https://docs.djangoproject.com/en/5.2/ref/settings/#installed-apps
# ---------------------------------------------------------------------------------------------------------------
DJANGO_APPS = [
    "atrium.apps.AtriumAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "guardian",
    "simple_history",
    "constance",
    "import_export",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mozilla_django_oidc",
    "djangosaml2",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "core",
    "accounts",
    "tenants",
    "themes",
    "navigation",
    "audit",
    "jobs",
    "reports",
    "feedback",
    "analytics",
    "demo",
    "api",
    "monitoring",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# ---------------------------------------------------------------------------------------------------------------
# Middleware  https://docs.djangoproject.com/en/5.2/topics/http/middleware/
# ---------------------------------------------------------------------------------------------------------------
MIDDLEWARE = [
    # django-prometheus times the whole stack from here to PrometheusAfterMiddleware (docs/monitoring.md).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Health probes and /metrics are answered here, before sessions, sections and themes (see the module).
    "monitoring.middleware.ProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    # Silent OIDC renewal before the ID token expires; a no-op for other sessions and while OIDC is off.
    "accounts.oidc.AtriumSessionRefresh",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Per-section request metrics and the log context (user id); outside SectionMiddleware to see all its answers.
    "monitoring.middleware.RequestMetricsMiddleware",
    "tenants.middleware.SectionMiddleware",
    "analytics.middleware.PageViewMiddleware",
    "accounts.middleware.AdminMfaMiddleware",
    "themes.middleware.ThemeMiddleware",
    # Per-view metrics of django-prometheus; outside Axes, so its lock-out answers are counted too.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Axes goes last so it sees the outcome of the authentication attempts made by the views above it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "atrium.urls"
WSGI_APPLICATION = "atrium.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "OPTIONS": {
            # The active theme package may override any template; its loader is uncached (it depends on the
            # request's theme) and comes before the cached ones.
            "loaders": [
                "themes.loaders.ThemePackageLoader",
                (
                    "django.template.loaders.cached.Loader",
                    ["django.template.loaders.filesystem.Loader", "django.template.loaders.app_directories.Loader"],
                ),
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.platform",
                "themes.context_processors.display",
                "tenants.context_processors.sections",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------------------------
# Database  https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# ---------------------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'atrium.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # MariaDB (Galera in production): utf8mb4, strict mode, and READ COMMITTED so that long reads do not hold
    # gap locks that make Galera certification conflicts more likely.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            # The connection's collation must match the tables', or comparisons of a column with a computed
            # string (django-guardian casts ids to text) fail with "Illegal mix of collations".
            "collation": env.str("DATABASE_COLLATION", default="utf8mb4_unicode_ci"),
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
            "isolation_level": "read committed",
        }
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": DATABASES["default"]["OPTIONS"]["collation"]}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django's backend plus one retry of a connection attempt that a dying Galera node dropped (core/dbbackend).
    DATABASES["default"]["ENGINE"] = "core.dbbackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# How often a write service retries a transaction that MariaDB/Galera aborted (deadlock 1213, lock wait 1205).
ATRIUM_WRITE_RETRIES = env.int("ATRIUM_WRITE_RETRIES", default=5)

# ---------------------------------------------------------------------------------------------------------------
# Cache and sessions  https://docs.djangoproject.com/en/5.2/topics/cache/
# ---------------------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis behind a fail-safe wrapper: when Redis is down, cache reads miss and writes are dropped,
            # so pages are served from the database; the outage is logged once, not per request.
            "BACKEND": "core.cache.FailSafeRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=f"atrium-{ATRIUM_ENV}"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=0.5),
                "RETRY_AFTER_SECONDS": env.float("REDIS_RETRY_AFTER", default=5.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "atrium"}}

# Sessions live in the database behind the cache, so web instances stay stateless and survive a Redis outage.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_NAME = "atrium_session"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "atrium_csrftoken"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# ---------------------------------------------------------------------------------------------------------------
# Authentication  https://docs.djangoproject.com/en/5.2/topics/auth/customizing/
# ---------------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

ATRIUM_DIRECTORY = env.str("ATRIUM_DIRECTORY", default="mock")
if ATRIUM_DIRECTORY not in ("mock", "ldap"):
    raise ImproperlyConfigured(f"ATRIUM_DIRECTORY must be 'mock' or 'ldap', not {ATRIUM_DIRECTORY!r}.")
MOCK_DIRECTORY_FILE = Path(env.str("MOCK_DIRECTORY_FILE", default=str(BASE_DIR / "fixtures" / "directory.yaml")))

# Group names that carry platform-wide rights, whichever directory fills them.
ATRIUM_ADMIN_GROUP = env.str("LDAP_ADMIN_GROUP", default="atrium-admins")
ATRIUM_AUDITOR_GROUP = env.str("LDAP_AUDITOR_GROUP", default="atrium-auditors")

# Single sign-on: OIDC (mozilla-django-oidc) and SAML 2.0 (djangosaml2), each switched on by its own variable.
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=False)
SAML_ENABLED = env.bool("SAML_ENABLED", default=False)

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out accounts before any directory is asked.
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.MockDirectoryBackend"
    if ATRIUM_DIRECTORY == "mock"
    else "accounts.ldap_backend.AtriumLDAPBackend",
    *(["accounts.oidc.AtriumOIDCBackend"] if OIDC_ENABLED else []),
    *(["accounts.saml.AtriumSaml2Backend"] if SAML_ENABLED else []),
    # The local break-glass admin: only the break-glass form (password + TOTP) can use it, never the normal form.
    "accounts.backends.BreakGlassBackend",
    "guardian.backends.ObjectPermissionBackend",
]

if ATRIUM_DIRECTORY == "ldap":
    # The AUTH_LDAP_* settings come from one function that the tests call too, so they test what production runs
    # (the LDAP_* variables are listed in docs/howto/connect-ldap.md). `env.ENVIRON` includes what .env added.
    from accounts.ldap_config import ldap_settings

    globals().update(ldap_settings(env.ENVIRON))

# ---- OIDC (mozilla-django-oidc): authorization code + PKCE, groups from a claim, MFA from amr/acr -------------
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=5)
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USERNAME_CLAIM = env.str("OIDC_USERNAME_CLAIM", default="preferred_username")  # falls back to `sub`
# client_secret_basic (HTTP Basic) instead of client_secret_post at the token endpoint, for IdPs that want it.
OIDC_TOKEN_USE_BASIC_AUTH = env.bool("OIDC_TOKEN_USE_BASIC_AUTH", default=False)
# amr values (RFC 8176) and acr values that count as multi-factor, and the acr to ask for on step-up.
OIDC_MFA_AMR_VALUES = env.list("OIDC_MFA_AMR_VALUES", default=["mfa", "otp", "hwk", "swk", "fido"])
OIDC_MFA_ACR_VALUES = env.list("OIDC_MFA_ACR_VALUES", default=[])
OIDC_MFA_REQUEST_ACR = env.str("OIDC_MFA_REQUEST_ACR", default="mfa")
OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = env.int("OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS", default=15 * 60)
OIDC_STORE_ID_TOKEN = True
OIDC_CREATE_USER = True
OIDC_OP_LOGOUT_URL_METHOD = "accounts.oidc.provider_logout_url"
OIDC_CALLBACK_CLASS = "accounts.oidc.AtriumOIDCCallbackView"
OIDC_AUTHENTICATE_CLASS = "accounts.oidc.AtriumOIDCAuthenticationView"
# The callback's URL name (its absolute URL is the redirect_uri to register at the IdP).
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc-callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"

# ---- SAML 2.0 (djangosaml2) for IdPs that only speak SAML, e.g. AD FS ------------------------------------------
SAML_IDP_METADATA_URL = env.str("SAML_IDP_METADATA_URL", default="")
SAML_IDP_METADATA_FILE = env.str("SAML_IDP_METADATA_FILE", default="")
SAML_SP_ENTITY_ID = env.str("SAML_SP_ENTITY_ID", default="")
SAML_SP_BASE_URL = env.str("SAML_SP_BASE_URL", default="")
SAML_SP_KEY_FILE = env.str("SAML_SP_KEY_FILE", default="")
SAML_SP_CERT_FILE = env.str("SAML_SP_CERT_FILE", default="")
SAML_GROUPS_ATTRIBUTE = env.str("SAML_GROUPS_ATTRIBUTE", default="groups")
SAML_MFA_AUTHN_CONTEXTS = env.list(
    "SAML_MFA_AUTHN_CONTEXTS",
    default=[
        "http://schemas.microsoft.com/ws/2012/12/authmethod/otp",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    ],
)
SAML_MFA_REQUEST_CONTEXT = env.str(
    "SAML_MFA_REQUEST_CONTEXT", default="http://schemas.microsoft.com/claims/multipleauthn"
)
# Optional: which IdP of the metadata to use (needed only when the metadata describes several).
SAML_IDP_ENTITY_ID = env.str("SAML_IDP_ENTITY_ID", default="")
SAML_IDP_METADATA_REFRESH_SECONDS = env.int("SAML_IDP_METADATA_REFRESH_SECONDS", default=3600)
# The assertion must always be signed; this also requires the Response around it to be signed.
SAML_WANT_RESPONSE_SIGNED = env.bool("SAML_WANT_RESPONSE_SIGNED", default=False)
SAML_CLOCK_SKEW_SECONDS = env.int("SAML_CLOCK_SKEW_SECONDS", default=60)
SAML_XMLSEC_BINARY = env.str("SAML_XMLSEC_BINARY", default="")  # empty: xmlsec1 on PATH, else /usr/bin/xmlsec1
# The username is the NameID unless an attribute is named; the other attributes fill the user's fields.
SAML_USERNAME_ATTRIBUTE = env.str("SAML_USERNAME_ATTRIBUTE", default="")
SAML_ATTR_FIRST_NAME = env.str("SAML_ATTR_FIRST_NAME", default="givenName")
SAML_ATTR_LAST_NAME = env.str("SAML_ATTR_LAST_NAME", default="sn")
SAML_ATTR_EMAIL = env.str("SAML_ATTR_EMAIL", default="mail")
SAML_ATTR_DEPARTMENT = env.str("SAML_ATTR_DEPARTMENT", default="departmentNumber")
SAML_ATTR_TITLE = env.str("SAML_ATTR_TITLE", default="title")
SAML_CREATE_UNKNOWN_USER = env.bool("SAML_CREATE_UNKNOWN_USER", default=True)
# djangosaml2's options, derived from the above (https://djangosaml2.readthedocs.io/contents/setup.html).
SAML_USE_NAME_ID_AS_USERNAME = not SAML_USERNAME_ATTRIBUTE
SAML_DJANGO_USER_MAIN_ATTRIBUTE = "username"
SAML_ATTRIBUTE_MAPPING = {
    name: (field,)
    for name, field in (
        (SAML_USERNAME_ATTRIBUTE, "username"),
        (SAML_ATTR_FIRST_NAME, "first_name"),
        (SAML_ATTR_LAST_NAME, "last_name"),
        (SAML_ATTR_EMAIL, "email"),
        (SAML_ATTR_DEPARTMENT, "department"),
        (SAML_ATTR_TITLE, "title"),
    )
    if name
}
# Its own session cookie (SameSite=None over HTTPS), so the IdP's cross-site POST finds the SAML state.
SAML_SESSION_COOKIE_NAME = "atrium_saml_session"
# AuthnRequests by redirect (a plain link, no page in between); logout requests by POST (see accounts.saml).
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_LOGOUT_REQUEST_PREFERRED_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
SAML_CSP_HANDLER = ""  # accounts.saml allows forms to the IdP's origin only, not djangosaml2's "any https:"
SAML_CONFIG_LOADER = "accounts.saml_config.load_sp_config"
SAML_CONFIG: dict[str, object] = {}
if SAML_ENABLED:
    from accounts.saml_config import saml_config

    SAML_CONFIG = saml_config({k: v for k, v in globals().items() if k.startswith("SAML_")}, deployed=IS_DEPLOYED)

# ---- MFA, break-glass, sessions ----------------------------------------------------------------------------------
# The admin requires MFA for everyone in uat and prod (TOTP for local and directory accounts, the IdP for SSO).
ADMIN_REQUIRES_MFA = env.bool("ADMIN_REQUIRES_MFA", default=IS_DEPLOYED)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default=f"Atrium ({ATRIUM_ENV})")
# Who hears about break-glass use and other security alerts (comma-separated e-mail addresses).
SECURITY_ALERT_EMAILS = env.list("SECURITY_ALERT_EMAILS", default=[])
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
# Networks of the proxies (F5, nginx) allowed to vouch for the client address in X-Forwarded-For.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1/32", "::1/128"])
# /metrics answers these networks (CIDR), or any client sending `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Backups: where the nightly dumps (*.sql.gz, *.sql) land, and how the job monitoring.verify-backup checks the newest:
# restored into BACKUP_SCRATCH_DATABASE_URL (dropped and recreated: never the live database, which is refused), its
# key tables compared with the live ones. See docs/monitoring.md ("Backup verification").
BACKUP_DIR = env.str("BACKUP_DIR", default="")
BACKUP_MAX_AGE_HOURS = env.float("BACKUP_MAX_AGE_HOURS", default=26.0)
BACKUP_SCRATCH_DATABASE_URL = env.str("BACKUP_SCRATCH_DATABASE_URL", default="")
BACKUP_MIN_ROW_RATIO = env.float("BACKUP_MIN_ROW_RATIO", default=0.9)
BACKUP_CLIENT = env.str("BACKUP_CLIENT", default="")  # empty: `mariadb`, else `mysql`, from PATH
BACKUP_KEEP_SCRATCH = env.bool("BACKUP_KEEP_SCRATCH", default=False)
BACKUP_VERIFY_TIMEOUT_SECONDS = env.int("BACKUP_VERIFY_TIMEOUT_SECONDS", default=3 * 60 * 60)
# Who gets mail when nothing more specific is configured (bug reports for platform pages, server errors):
# ADMINS="Ops Team <ops@example.com>,Second <second@example.com>"
ADMINS = [parseaddr(entry) for entry in env.list("ADMINS", default=[])]
# /-/health/ready keeps its result this long per process: the F5 polls every second from each member.
HEALTH_CACHE_SECONDS = env.float("HEALTH_CACHE_SECONDS", default=1.0)

# ---- Analytics: page views and time on page (docs/analytics.md) -------------------------------------------------
# Off by default under ATRIUM_ENV=test, so other apps' tests (query counts) never see its buffered writes; the
# analytics tests and the benchmark switch it on.
ANALYTICS_ENABLED = env.bool("ANALYTICS_ENABLED", default=ATRIUM_ENV != "test")
# Paths never recorded: the admin, the API, probes and metrics, files, and the beacon itself.
ANALYTICS_EXCLUDED_PREFIXES = env.list(
    "ANALYTICS_EXCLUDED_PREFIXES",
    default=["/admin/", "/api/", "/-/", "/metrics", "/static/", "/media/", "/analytics/beacon/", "/favicon.ico"],
)
# Views are buffered per process and written with one bulk INSERT when the buffer holds this many rows or its
# oldest row is this old (and at process exit); a kill -9 loses at most one buffer.
ANALYTICS_BUFFER_SIZE = env.int("ANALYTICS_BUFFER_SIZE", default=200)
ANALYTICS_FLUSH_SECONDS = env.float("ANALYTICS_FLUSH_SECONDS", default=10.0)
# The longest time on page a beacon may report (8 hours), and how long a page's beacon token stays valid.
ANALYTICS_MAX_DURATION_MS = env.int("ANALYTICS_MAX_DURATION_MS", default=8 * 60 * 60 * 1000)
ANALYTICS_BEACON_MAX_AGE_SECONDS = env.int("ANALYTICS_BEACON_MAX_AGE_SECONDS", default=24 * 60 * 60)
# A visit ends after this many minutes without a page view (entry and exit pages, paths).
ANALYTICS_VISIT_GAP_MINUTES = env.int("ANALYTICS_VISIT_GAP_MINUTES", default=30)

# ---- E-mail ------------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if IS_DEPLOYED
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="atrium@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Sign-in throttling  https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-guardian: no anonymous user row; anonymous visitors never hold object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-simple-history: reverting goes through the services (with a reason), never the admin's raw revert form.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# ---------------------------------------------------------------------------------------------------------------
# Live settings (django-constance)  https://django-constance.readthedocs.io/
# ---------------------------------------------------------------------------------------------------------------
CONSTANCE_BACKEND = "constance.backends.database.DatabaseBackend"
# Cache live settings only in a shared cache (Redis); a per-process cache would let instances disagree.
CONSTANCE_DATABASE_CACHE_BACKEND = "default" if REDIS_URL else None
CONSTANCE_CONFIG = {
    "SUPPORT_EMAIL": ("atrium-support@example.com", "Where users are told to write when something is wrong.", str),
    "BANNER_TEXT": ("", "A message shown at the top of every page (empty: none).", str),
    "ANALYTICS_RETENTION_DAYS": (395, "How long page visits are kept before they are purged.", int),
    "SECURITY_EVENT_RETENTION_DAYS": (730, "How long security events are kept.", int),
    "HISTORY_RETENTION_DAYS": (
        2555,
        "How long configuration history is kept (the newest version of every object is always kept).",
        int,
    ),
    "API_USAGE_RETENTION_DAYS": (180, "How long API usage records are kept.", int),
    "SECURITY_CONTACTS": (
        "",
        "Comma-separated e-mail addresses that receive security alerts (as well as SECURITY_ALERT_EMAILS).",
        str,
    ),
    "SESSION_IDLE_TIMEOUT_MINUTES": (60, "Sign a user out after this many minutes without a request.", int),
    "ANALYTICS_PSEUDONYMISE_DAYS": (
        30,
        "After this many days, page visits keep only a keyed pseudonym of the user (uniques still count).",
        int,
    ),
    "ANALYTICS_ALLOW_OPT_OUT": (True, "Users may switch off the recording of their page visits.", bool),
    "ANALYTICS_RECORDING": (
        True,
        "Record page visits and time on page (switch off to stop recording at once, without a deployment).",
        bool,
    ),
}
CONSTANCE_CONFIG_FIELDSETS = {
    "Support": ("SUPPORT_EMAIL", "BANNER_TEXT"),
    "Retention": (
        "ANALYTICS_RETENTION_DAYS",
        "SECURITY_EVENT_RETENTION_DAYS",
        "HISTORY_RETENTION_DAYS",
        "API_USAGE_RETENTION_DAYS",
    ),
    "Security": ("SECURITY_CONTACTS",),
    "Sessions": ("SESSION_IDLE_TIMEOUT_MINUTES",),
    "Analytics": ("ANALYTICS_RECORDING", "ANALYTICS_ALLOW_OPT_OUT", "ANALYTICS_PSEUDONYMISE_DAYS"),
}

# ---------------------------------------------------------------------------------------------------------------
# API  https://www.django-rest-framework.org/api-guide/settings/  https://drf-spectacular.readthedocs.io/
# ---------------------------------------------------------------------------------------------------------------
# Calls per credential (token, or the session's user) and scope, and per user over all their tokens; "" = no limit.
API_THROTTLE_RATES = {
    "read": env.str("API_THROTTLE_READ", default="1200/min"),
    "write": env.str("API_THROTTLE_WRITE", default="120/min"),
    "ingest": env.str("API_THROTTLE_INGEST", default="600/min"),
    "user": env.str("API_THROTTLE_USER", default="2400/min"),
}
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)
# Personal API tokens: how long one may live at most, and by default.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
# Pushing records into a data source (POST /api/v1/sources/{id}/records/): records per call, and body size.
API_INGEST_MAX_RECORDS = env.int("API_INGEST_MAX_RECORDS", default=100_000)
API_INGEST_MAX_BODY_BYTES = env.int("API_INGEST_MAX_BODY_BYTES", default=64 * 1024 * 1024)

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate challenge makes a call without credentials a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.ApiSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "api.filters.ApiOrderingFilter",
    ],
    # JSON only: the browsable API's pages would need inline scripts, which the CSP forbids (Swagger UI instead).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atrium API",
    "DESCRIPTION": (
        "The REST API of Atrium, the platform of team portals. Authenticate with a personal API token "
        "(`Authorization: Bearer atr_…`, created at /accounts/tokens/) or the browser session. Lists use cursor "
        "pagination (`next`/`previous`, `?limit=`), filters and `?ordering=`; `?fields=a,b` trims answers. Errors "
        "are RFC 9457 problem details (application/problem+json). See the documentation's API pages."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # The documentation pages load Swagger UI and Redoc from /static/ (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "SectionStatusEnum": "tenants.models.SectionStatus",
        # Bug reports have a `status` too: named apart so the two enums do not collide in the schema.
        "BugReportStatusEnum": "feedback.models.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.describe_the_obvious",
    ],
}

# ---------------------------------------------------------------------------------------------------------------
# Internationalisation and static files
# ---------------------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from npm (package.json) and are served straight from node_modules/<pkg>/dist;
# nothing built is committed.
if not IS_DEPLOYED:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# In development and tests WhiteNoise serves straight from the finders, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = not IS_DEPLOYED
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/datatables", NODE_MODULES / "datatables.net" / "js"),
    ("vendor/datatables-bs5", NODE_MODULES / "datatables.net-bs5"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/axe-core", NODE_MODULES / "axe-core"),
    ("vendor/html-to-image", NODE_MODULES / "html-to-image" / "dist"),
    *theme_static_dirs(),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# ---------------------------------------------------------------------------------------------------------------
# Security  https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# ---------------------------------------------------------------------------------------------------------------
# TLS ends at F5/nginx, which set X-Forwarded-Proto; only trust it when we sit behind them.
if env.bool("BEHIND_TLS_PROXY", default=IS_DEPLOYED):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_DEPLOYED)
SECURE_REDIRECT_EXEMPT = [r"^-/health/"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=IS_DEPLOYED)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=IS_DEPLOYED)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if IS_DEPLOYED else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=IS_DEPLOYED)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a commitment for the whole domain (browsers hard-code it); an internal portal's operators opt in
# with SECURE_HSTS_PRELOAD=true. Until then the deploy check's reminder about it is not a finding.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): no inline scripts anywhere; a nonce where one is unavoidable.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}


def _refuse_unsafe() -> None:
    """uat and prod must not start with development-grade security; say exactly what is wrong."""
    if not IS_DEPLOYED:
        return
    problems = []
    if DEBUG:
        problems.append("DEBUG is on")
    if SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        problems.append("SECRET_KEY is the development default or shorter than 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is empty")
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT"):
        if not globals()[name]:
            problems.append(f"{name} is off")
    if SECURE_HSTS_SECONDS < 3600:
        problems.append("SECURE_HSTS_SECONDS is below one hour")
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        problems.append("DATABASE_URL is not set (SQLite is for development only)")
    if ATRIUM_DIRECTORY == "mock":
        problems.append("ATRIUM_DIRECTORY is 'mock' (the mock directory is for development only)")
    if problems:
        raise ImproperlyConfigured(f"Refusing to start ATRIUM_ENV={ATRIUM_ENV}: " + "; ".join(problems) + ".")


_refuse_unsafe()

# ---------------------------------------------------------------------------------------------------------------
# Logging  https://docs.djangoproject.com/en/5.2/topics/logging/
# ---------------------------------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# `json`: one JSON object per line with request_id, section and user_id (uat/prod: for journald and the log shipper);
# `plain`: readable lines (development). Both go to standard output; see docs/monitoring.md.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_DEPLOYED else "plain")
# Also send every line to syslog (RFC 5424 header, JSON body): `host:port` (UDP) or a socket path such as /dev/log.
# Off when empty. The security stream uses its own facility, so rsyslog can route it apart (deploy/logging/).
LOG_SYSLOG_ADDRESS = env.str("LOG_SYSLOG_ADDRESS", default="")
LOG_SYSLOG_FACILITY = env.str("LOG_SYSLOG_FACILITY", default="local0")
LOG_SYSLOG_SECURITY_FACILITY = env.str("LOG_SYSLOG_SECURITY_FACILITY", default="authpriv")
# The security stream (JSON lines) goes to this file when set, else to standard error.
SECURITY_LOG_FILE = env.str("SECURITY_LOG_FILE", default="")
LOGGING = logging_config(
    level=LOG_LEVEL,
    log_format=LOG_FORMAT,
    syslog_address=LOG_SYSLOG_ADDRESS,
    syslog_facility=LOG_SYSLOG_FACILITY,
    security_syslog_facility=LOG_SYSLOG_SECURITY_FACILITY,
    security_log_file=SECURITY_LOG_FILE,
)

# ---------------------------------------------------------------------------------------------------------------
# Atrium
# ---------------------------------------------------------------------------------------------------------------
ATRIUM_VERSION = "0.1.0"
# What this instance does: `web` serves pages and runs no jobs, `jobs` is a job server (crontab), `all` does both
# (development). Deployed instances default to `web`: a job server says so explicitly.
ATRIUM_ROLE = env.str("ATRIUM_ROLE", default="web" if IS_DEPLOYED else "all")
if ATRIUM_ROLE not in ("web", "jobs", "all"):
    raise ImproperlyConfigured(f"ATRIUM_ROLE must be web, jobs or all, not {ATRIUM_ROLE!r}.")
# Environment banner colours (Bootstrap contextual classes); prod shows none.
ATRIUM_BANNERS = {"dev": "success", "test": "secondary", "uat": "warning"}
