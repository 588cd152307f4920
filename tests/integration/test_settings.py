"""The settings as an operator meets them: `manage.py` run in a subprocess with a controlled environment.

Each test starts `manage.py` with a minimal environment (PATH, HOME, LANG, plus the variables under test) and a
temporary ATRIUM_VAR_DIR, so neither the developer's shell nor the test harness (DATABASE_URL, REDIS_URL,
ATRIUM_ENV=test) leaks into the settings being checked.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
KEPT_VARIABLES = ("PATH", "HOME", "LANG")
DEPLOYED_ENVIRONMENTS = ("uat", "prod")


def base_environment(var_dir: Path) -> dict[str, str]:
    """A minimal copy of os.environ: no DATABASE_URL, REDIS_URL, ATRIUM_* or DJANGO_SETTINGS_MODULE."""
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    environment["ATRIUM_VAR_DIR"] = str(var_dir)
    return environment


def deployed_environment(atrium_env: str, tmp_path: Path) -> dict[str, str]:
    """A complete, safe uat/prod configuration (the tests below break one thing at a time)."""
    return {
        **base_environment(tmp_path / "var"),
        "ATRIUM_ENV": atrium_env,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "ALLOWED_HOSTS": "portal.example.com",
        # `check --deploy` does not connect to the database.
        "DATABASE_URL": "mysql://atrium:pw@127.0.0.1:3306/atrium",
        "ATRIUM_DIRECTORY": "ldap",
        "LDAP_SERVER_URI": "ldap://127.0.0.1:389",
        "LDAP_USER_SEARCH_BASE": "ou=people,dc=example,dc=com",
        "LDAP_GROUP_SEARCH_BASE": "ou=groups,dc=example,dc=com",
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `manage.py <args>` from the repository root with exactly `env`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def error_message(result: subprocess.CompletedProcess[str]) -> str:
    """The message of the ImproperlyConfigured that stopped `manage.py` ("" if there was none)."""
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    return next((line.removeprefix(prefix) for line in result.stderr.splitlines() if line.startswith(prefix)), "")


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit status {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


# ---------------------------------------------------------------------------------------------------------------
# uat and prod: the deployment checklist passes
# ---------------------------------------------------------------------------------------------------------------
DOCUMENTED_DEFAULT_PRELOAD = pytest.param({}, id="hsts-preload-default")


@pytest.mark.parametrize(
    "extra", [pytest.param({"SECURE_HSTS_PRELOAD": "true"}, id="hsts-preload-on"), DOCUMENTED_DEFAULT_PRELOAD]
)
@pytest.mark.parametrize("atrium_env", DEPLOYED_ENVIRONMENTS)
def test_deployed_settings_pass_the_deploy_check_without_warnings(
    atrium_env: str, extra: dict[str, str], tmp_path: Path
) -> None:
    env = {**deployed_environment(atrium_env, tmp_path), **extra}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, output(result)
    assert "System check identified no issues" in result.stdout, output(result)
    assert "WARNINGS" not in result.stdout + result.stderr, output(result)


# ---------------------------------------------------------------------------------------------------------------
# uat and prod: unsafe values are refused at settings import, naming the problem
# ---------------------------------------------------------------------------------------------------------------
UNSET = None
UNSAFE_VALUES = [
    pytest.param({"DEBUG": "true"}, "DEBUG is on", id="debug-on"),
    pytest.param(
        {"SECRET_KEY": UNSET}, "SECRET_KEY is the development default or shorter than 50 characters", id="secret-unset"
    ),
    pytest.param(
        {"SECRET_KEY": secrets.token_urlsafe(16)},
        "SECRET_KEY is the development default or shorter than 50 characters",
        id="secret-too-short",
    ),
    pytest.param({"SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE is off", id="session-cookie-insecure"),
    pytest.param({"CSRF_COOKIE_SECURE": "false"}, "CSRF_COOKIE_SECURE is off", id="csrf-cookie-insecure"),
    pytest.param({"SECURE_SSL_REDIRECT": "false"}, "SECURE_SSL_REDIRECT is off", id="no-ssl-redirect"),
    pytest.param({"ATRIUM_DIRECTORY": "mock"}, "ATRIUM_DIRECTORY is 'mock'", id="mock-directory"),
    pytest.param({"DATABASE_URL": UNSET}, "DATABASE_URL is not set", id="database-url-unset"),
    pytest.param({"ALLOWED_HOSTS": UNSET}, "ALLOWED_HOSTS is empty", id="allowed-hosts-unset"),
    pytest.param({"SECURE_HSTS_SECONDS": "60"}, "SECURE_HSTS_SECONDS is below one hour", id="hsts-too-short"),
]


@pytest.mark.parametrize(("change", "problem"), UNSAFE_VALUES)
@pytest.mark.parametrize("atrium_env", DEPLOYED_ENVIRONMENTS)
def test_deployed_settings_refuse_to_start_with_an_unsafe_value(
    atrium_env: str, change: dict[str, str | None], problem: str, tmp_path: Path
) -> None:
    env = deployed_environment(atrium_env, tmp_path)
    for name, value in change.items():
        if value is UNSET:
            env.pop(name)
        else:
            env[name] = value
    result = manage("check", env=env)
    assert result.returncode != 0, output(result)
    refusal = error_message(result)
    assert refusal.startswith(f"Refusing to start ATRIUM_ENV={atrium_env}: "), output(result)
    assert problem in refusal, output(result)
    # Only the one broken value is named: the rest of the base configuration is safe.
    assert ";" not in refusal, output(result)


def test_an_unknown_environment_is_refused_with_the_allowed_values(tmp_path: Path) -> None:
    env = {**base_environment(tmp_path / "var"), "ATRIUM_ENV": "bogus"}
    result = manage("check", env=env)
    assert result.returncode != 0, output(result)
    message = error_message(result)
    assert message == "ATRIUM_ENV must be one of dev, test, uat, prod, not 'bogus'.", output(result)


# ---------------------------------------------------------------------------------------------------------------
# dev: the defaults need no services at all
# ---------------------------------------------------------------------------------------------------------------
SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "env": settings.ATRIUM_ENV,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "database": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "directory": settings.ATRIUM_DIRECTORY,
    "debug": settings.DEBUG,
}))
"""


def test_dev_defaults_use_sqlite_local_memory_and_the_mock_directory(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    result = manage("shell", "--verbosity", "0", "-c", SHOW_SETTINGS, env=base_environment(var_dir))
    assert result.returncode == 0, output(result)
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {
        "env": "dev",
        "engine": "django.db.backends.sqlite3",
        "database": str(var_dir / "atrium.sqlite3"),
        "cache": "django.core.cache.backends.locmem.LocMemCache",
        "directory": "mock",
        "debug": True,
    }, output(result)
    assert var_dir.is_dir(), "dev settings should create ATRIUM_VAR_DIR for the SQLite database"


def test_old_secret_keys_in_secret_key_fallbacks_still_verify_during_a_rotation(tmp_path: Path) -> None:
    """docs/runbooks/rotating-secrets.md: the old key goes into SECRET_KEY_FALLBACKS, so what it signed still works."""
    old_keys = [secrets.token_urlsafe(48), secrets.token_urlsafe(48)]
    environment = {**deployed_environment("prod", tmp_path), "SECRET_KEY_FALLBACKS": ",".join(old_keys)}
    script = (
        "from django.core import signing\n"
        f"print(signing.loads(signing.dumps('signed before the rotation', key={old_keys[1]!r})))\n"
    )
    result = manage("shell", "--verbosity", "0", "-c", script, env=environment)
    assert result.returncode == 0, output(result)
    assert result.stdout.strip().splitlines()[-1] == "signed before the rotation"

    check = manage("check", "--deploy", "--fail-level", "WARNING", env=environment)
    assert check.returncode == 0, output(check)
    weak = {**environment, "SECRET_KEY_FALLBACKS": "short"}
    assert manage("check", "--deploy", "--fail-level", "WARNING", env=weak).returncode != 0
