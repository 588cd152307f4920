"""LDAP sign-in and directory sync against a real slapd loaded with fixtures/directory.ldif.

Django is configured per test with `ldap_settings()`, the function settings.py uses, so these tests exercise the
configuration production runs with. One slapd serves the module; after each test the directory is reloaded and
the server restarted if the test stopped it.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.ldap_backend import AtriumLDAPBackend
from accounts.ldap_config import ldap_settings
from accounts.models import DirectorySource, SecurityEvent, User
from core.security import EventType
from tests.conftest import DEMO_PASSWORD
from tests.harness.slapd import GROUPS, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, AtriumSlapd, slapd_or_skip

pytestmark = pytest.mark.django_db

BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.ldap_backend.AtriumLDAPBackend",
    "accounts.backends.BreakGlassBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# The filter the how-to recommends for OpenLDAP: people marked employeeType=disabled cannot sign in.
ENABLED_ONLY = "(&(uid=%(user)s)(!(employeeType=disabled)))"
NOT_ANSWERING = "The directory is not answering"
BREAK_GLASS_PASSWORD = "correct-horse-battery-staple-42"


def ldap_env(uri: str, **overrides: str) -> dict[str, str]:
    """The LDAP_* variables an admin would set for the test directory."""
    env = {
        "LDAP_SERVER_URI": uri,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_SEARCH_BASE": PEOPLE,
        "LDAP_USER_FILTER": ENABLED_ONLY,
        "LDAP_GROUP_SEARCH_BASE": GROUPS,
        "LDAP_TIMEOUT": "2",
    }
    env.update(overrides)
    return env


def use_ldap(uri: str, **overrides: str) -> override_settings:
    """Django settings for ATRIUM_DIRECTORY=ldap, built by the same function as production's."""
    return override_settings(
        ATRIUM_DIRECTORY="ldap", AUTHENTICATION_BACKENDS=BACKENDS, **ldap_settings(ldap_env(uri, **overrides))
    )


@pytest.fixture(scope="module")
def slapd_server() -> Iterator[AtriumSlapd]:
    server = slapd_or_skip()
    yield server
    server.stop()


@pytest.fixture
def slapd(slapd_server: AtriumSlapd) -> Iterator[AtriumSlapd]:
    """The module's slapd; whatever the test did to it (stopped it, changed entries) is undone afterwards."""
    yield slapd_server
    slapd_server.resume()
    slapd_server.load_fixture()


@pytest.fixture
def directory(slapd: AtriumSlapd) -> Iterator[AtriumSlapd]:
    """slapd, with Django signing people in against it (the recommended OpenLDAP settings)."""
    with use_ldap(slapd.ldap_uri):
        yield slapd


def sign_in(username: str, password: str = DEMO_PASSWORD) -> tuple[Client, HttpResponse]:
    client = Client()
    return client, client.post("/accounts/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def groups_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def refused(response: HttpResponse) -> bool:
    return response.status_code == 200 and "not right" in response.content.decode()


def make_break_glass_admin() -> tuple[User, TOTPDevice]:
    user = User.objects.create_user(
        "emergency", password=BREAK_GLASS_PASSWORD, source=DirectorySource.LOCAL, is_superuser=True, is_staff=True
    )
    return user, TOTPDevice.objects.create(user=user, name="Break-glass token", confirmed=True)


# ---- settings ---------------------------------------------------------------------------------------------------
def test_settings_follow_the_environment_with_safe_defaults():
    values = ldap_settings(ldap_env("ldap://ldap.example.com", LDAP_USER_FILTER="(uid=%(user)s)"))
    assert values["AUTH_LDAP_USER_SEARCH"].filterstr == "(uid=%(user)s)"
    assert "AUTH_LDAP_USER_DN_TEMPLATE" not in values
    assert values["AUTH_LDAP_MIRROR_GROUPS"] is False and values["AUTH_LDAP_ALWAYS_UPDATE_USER"] is True
    assert values["AUTH_LDAP_GROUP_SEARCH"].filterstr == "(objectClass=groupOfNames)"
    assert type(values["AUTH_LDAP_GROUP_TYPE"]).__name__ == "GroupOfNamesType"
    assert values["AUTH_LDAP_CACHE_TIMEOUT"] == 0
    import ldap

    options = values["AUTH_LDAP_CONNECTION_OPTIONS"]
    assert options[ldap.OPT_NETWORK_TIMEOUT] == options[ldap.OPT_TIMEOUT] == 2.0
    assert ldap.OPT_X_TLS_NEWCTX not in options  # plain ldap:// without a CA file: no TLS options
    assert (
        ldap_settings({k: v for k, v in ldap_env("ldap://x").items() if k != "LDAP_TIMEOUT"})[
            "AUTH_LDAP_CONNECTION_OPTIONS"
        ][ldap.OPT_TIMEOUT]
        == 3.0
    )


def test_settings_for_tls_set_the_ca_file_before_a_new_tls_context():
    import ldap

    values = ldap_settings(ldap_env("ldap://x", LDAP_START_TLS="true", LDAP_CA_CERT_FILE="/etc/ssl/ca.pem"))
    assert values["AUTH_LDAP_START_TLS"] is True
    options = list(values["AUTH_LDAP_CONNECTION_OPTIONS"].items())
    assert (ldap.OPT_X_TLS_CACERTFILE, "/etc/ssl/ca.pem") in options
    assert (ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND) in options
    assert options[-1] == (ldap.OPT_X_TLS_NEWCTX, 0)  # libldap only reads the TLS options into a new context
    ldaps = ldap_settings(ldap_env("ldaps://x"))["AUTH_LDAP_CONNECTION_OPTIONS"]
    assert ldaps[ldap.OPT_X_TLS_REQUIRE_CERT] == ldap.OPT_X_TLS_DEMAND


def test_settings_for_a_dn_template_and_each_group_type():
    template = ldap_settings(ldap_env("ldap://x", LDAP_USER_DN_TEMPLATE=f"uid=%(user)s,{PEOPLE}"))
    assert template["AUTH_LDAP_USER_DN_TEMPLATE"] == f"uid=%(user)s,{PEOPLE}"
    assert "AUTH_LDAP_USER_SEARCH" not in template
    unique = ldap_settings(ldap_env("ldap://x", LDAP_GROUP_TYPE="groupOfUniqueNames"))
    assert unique["AUTH_LDAP_GROUP_SEARCH"].filterstr == "(objectClass=groupOfUniqueNames)"
    nested = ldap_settings(ldap_env("ldap://x", LDAP_GROUP_TYPE="nested", LDAP_GROUP_FILTER="(objectClass=group)"))
    assert type(nested["AUTH_LDAP_GROUP_TYPE"]).__name__ == "NestedGroupOfNamesType"
    assert nested["AUTH_LDAP_GROUP_SEARCH"].filterstr == "(objectClass=group)"


def test_missing_or_malformed_settings_are_all_named_at_start_up():
    with pytest.raises(ImproperlyConfigured) as error:
        ldap_settings({"LDAP_SERVER_URI": "http://ldap", "LDAP_GROUP_TYPE": "posix", "LDAP_USER_FILTER": "(uid=x)"})
    message = str(error.value)
    for problem in ("ldap:// or ldaps://", "LDAP_USER_SEARCH_BASE", "%(user)s", "LDAP_GROUP_SEARCH_BASE", "posix"):
        assert problem in message


def test_settings_py_builds_the_ldap_settings_from_the_environment(tmp_path):
    from tests.integration.test_settings import base_environment, error_message, manage

    env = {**base_environment(tmp_path / "var"), **ldap_env("ldap://127.0.0.1:389"), "ATRIUM_DIRECTORY": "ldap"}
    script = "from django.conf import settings as s; print(s.AUTH_LDAP_MIRROR_GROUPS, s.AUTH_LDAP_USER_SEARCH.base_dn)"
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["False", PEOPLE]
    del env["LDAP_GROUP_SEARCH_BASE"]
    assert "LDAP_GROUP_SEARCH_BASE is not set" in error_message(manage("check", env=env))


# ---- signing in -------------------------------------------------------------------------------------------------
def test_fiona_signs_in_with_her_directory_attributes_and_groups(directory):
    client, response = sign_in("fiona")
    assert response.status_code == 302 and signed_in(client)
    fiona = User.objects.get(username="fiona")
    assert (fiona.first_name, fiona.last_name, fiona.email) == ("Fiona", "Fischer", "fiona@example.com")
    assert (fiona.department, fiona.title, fiona.source) == ("Finance", "Finance portal editor", "ldap")
    assert groups_of("fiona") == {"finance-editors", "finance-staff"}
    assert not fiona.is_superuser and not fiona.is_staff and not fiona.has_usable_password()
    assert SecurityEvent.objects.get(event_type=EventType.SIGN_IN).method == "ldap"


def test_a_wrong_password_is_refused_and_recorded_as_bad_credentials(directory):
    client, response = sign_in("fiona", "not-her-password")
    assert refused(response) and not signed_in(client)
    event = SecurityEvent.objects.get(event_type=EventType.SIGN_IN_FAILED)
    assert (event.username, event.reason) == ("fiona", "bad credentials")
    assert not SecurityEvent.objects.filter(event_type=EventType.DIRECTORY_UNAVAILABLE).exists()


def test_an_unknown_user_is_refused(directory):
    client, response = sign_in("nobody")
    assert refused(response) and not signed_in(client)
    assert not User.objects.filter(username="nobody").exists()


def test_a_disabled_account_cannot_sign_in_because_the_user_filter_leaves_it_out(slapd):
    with use_ldap(slapd.ldap_uri):
        client, response = sign_in("dora")
        assert refused(response) and not signed_in(client)
    assert not User.objects.filter(username="dora").exists()
    # It is the filter that keeps her out: with the bare default filter, her password would be accepted.
    with use_ldap(slapd.ldap_uri, LDAP_USER_FILTER="(uid=%(user)s)"):
        assert sign_in("dora")[1].status_code == 302


def test_an_overlong_username_is_refused_without_asking_the_directory(directory):
    client, response = sign_in("f" * 151)
    assert response.status_code == 200 and "at most 150" in response.content.decode() and not signed_in(client)
    request = RequestFactory().post("/accounts/login/")
    assert AtriumLDAPBackend().authenticate(request, username="f" * 151, password=DEMO_PASSWORD) is None


@pytest.mark.parametrize("username", ["*)(uid=*", "*", "fiona*", "f*)(|(uid=*", "fiona)(employeeType=*"])
def test_ldap_filter_metacharacters_sign_nobody_in(directory, username):
    client, response = sign_in(username)
    assert refused(response) and not signed_in(client)
    event = SecurityEvent.objects.get(event_type=EventType.SIGN_IN_FAILED)
    assert (event.username, event.reason) == (username, "bad credentials")
    assert not User.objects.exists()


def test_attributes_are_updated_at_every_sign_in_and_cut_to_fit(directory):
    sign_in("fiona")
    directory.replace_attribute("fiona", "title", "Head of finance systems " + "x" * 300)
    directory.replace_attribute("fiona", "mail", "fiona.fischer@example.com")
    sign_in("fiona")
    fiona = User.objects.get(username="fiona")
    assert fiona.email == "fiona.fischer@example.com"
    assert fiona.title.startswith("Head of finance systems") and len(fiona.title) == 150


def test_directory_groups_are_mirrored_and_local_groups_stay(directory):
    sign_in("fiona")
    User.objects.get(username="fiona").groups.add(Group.objects.create(name="local-project"))
    directory.remove_member("finance-editors", "fiona")
    assert sign_in("fiona")[1].status_code == 302
    assert groups_of("fiona") == {"finance-staff", "local-project"}


def test_admin_and_auditor_rights_follow_directory_groups(directory):
    sign_in("admin")
    sign_in("audrey")
    admin = User.objects.get(username="admin")
    audrey = User.objects.get(username="audrey")
    assert admin.is_superuser and admin.is_staff and admin.is_platform_admin
    assert audrey.is_auditor and audrey.is_staff and not audrey.is_superuser
    directory.remove_member("atrium-admins", "admin")
    sign_in("admin")
    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.is_staff


def test_group_of_unique_names(slapd):
    with use_ldap(slapd.ldap_uri, LDAP_GROUP_TYPE="groupOfUniqueNames"):
        assert sign_in("frank")[1].status_code == 302
    assert groups_of("frank") == {"payroll-readers"}


def test_nested_groups(slapd):
    with use_ldap(slapd.ldap_uri, LDAP_GROUP_TYPE="nested"):
        sign_in("frank")
        sign_in("hana")
    assert groups_of("frank") == {"finance-staff", "finance-all", "company-all"}
    assert groups_of("hana") == {"hr-editors", "hr-staff", "company-all"}


def test_a_dn_template_binds_without_searching(slapd):
    with use_ldap(slapd.ldap_uri, LDAP_USER_DN_TEMPLATE=f"uid=%(user)s,{PEOPLE}"):
        assert sign_in("fiona")[1].status_code == 302
        assert refused(sign_in("fiona", "wrong")[1])
    assert groups_of("fiona") == {"finance-editors", "finance-staff"}


def test_start_tls_with_the_configured_ca_signs_in_and_an_unknown_ca_is_refused(slapd):
    with use_ldap(slapd.ldap_uri, LDAP_START_TLS="true", LDAP_CA_CERT_FILE=slapd.cafile):
        assert sign_in("fiona")[1].status_code == 302
    # A certificate that does not chain to the configured CA: the connection is refused, never used unverified.
    with use_ldap(slapd.ldap_uri, LDAP_START_TLS="true", LDAP_CA_CERT_FILE=slapd.clientcert):
        response = sign_in("frank")[1]
    assert response.status_code == 200 and NOT_ANSWERING in response.content.decode()


def test_a_local_account_is_never_taken_over_by_a_directory_entry_of_the_same_name(directory):
    local = User.objects.create_user("admin", password=BREAK_GLASS_PASSWORD, source=DirectorySource.LOCAL)
    assert refused(sign_in("admin")[1])
    local.refresh_from_db()
    assert local.source == "local" and local.check_password(BREAK_GLASS_PASSWORD) and not local.is_superuser


def test_a_deactivated_user_cannot_sign_in_with_a_valid_directory_password(directory):
    sign_in("fiona")
    User.objects.filter(username="fiona").update(is_active=False)
    assert refused(sign_in("fiona")[1])
    assert not User.objects.get(username="fiona").is_active


# ---- the directory is down ----------------------------------------------------------------------------------------
def test_an_outage_says_so_is_recorded_does_not_lock_anyone_out_and_break_glass_still_works(directory):
    _, device = make_break_glass_admin()
    directory.outage()

    started = time.monotonic()
    client, response = sign_in("fiona")
    assert time.monotonic() - started < 5
    assert response.status_code == 200 and NOT_ANSWERING in response.content.decode() and not signed_in(client)
    failed = SecurityEvent.objects.get(event_type=EventType.SIGN_IN_FAILED)
    assert (failed.username, failed.reason) == ("fiona", "directory unavailable")
    unavailable = SecurityEvent.objects.get(event_type=EventType.DIRECTORY_UNAVAILABLE)
    assert unavailable.username == "fiona" and not unavailable.success and "SERVER_DOWN" in unavailable.detail["error"]

    admin = Client()
    response = admin.post(
        "/accounts/break-glass/",
        {"username": "emergency", "password": BREAK_GLASS_PASSWORD, "token": f"{totp(device.bin_key):06d}"},
    )
    assert response.status_code == 302 and admin.get("/admin/").status_code == 200

    for _ in range(6):  # more than AXES_FAILURE_LIMIT: retrying during an outage is not guessing passwords
        sign_in("fiona")
    directory.resume()
    client, response = sign_in("fiona")
    assert response.status_code == 302 and signed_in(client)


def test_a_server_that_accepts_but_never_answers_costs_a_sign_in_only_the_timeout(db):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes connections; nothing ever reads or answers them
        with use_ldap(f"ldap://127.0.0.1:{silent.getsockname()[1]}", LDAP_TIMEOUT="1"):
            started = time.monotonic()
            response = sign_in("fiona")[1]
            elapsed = time.monotonic() - started
    assert response.status_code == 200 and NOT_ANSWERING in response.content.decode()
    assert elapsed < 3
    assert "TIMEOUT" in SecurityEvent.objects.get(event_type=EventType.DIRECTORY_UNAVAILABLE).detail["error"]


# ---- sync_directory ------------------------------------------------------------------------------------------
def test_sync_removes_a_group_and_its_menu_item_without_a_new_sign_in(demo, directory):
    from tenants import services as tenant_services
    from tenants.models import Section, SectionRoleKind

    # finance-visitors may open the finance portal, so frank still sees it once he is no longer finance staff.
    directory.add_group("finance-visitors", ["frank"])
    visitors = Group.objects.create(name="finance-visitors")
    finance = Section.objects.get(slug="finance")
    tenant_services.grant_section_role(finance, visitors, SectionRoleKind.VIEWER, actor=None, reason="test")
    frank, _ = sign_in("frank")
    assert "Month-end calendar" in frank.get("/finance/").content.decode()

    directory.remove_member("finance-staff", "frank")
    out = io.StringIO()
    call_command("sync_directory", stdout=out)

    page = frank.get("/finance/")
    assert page.status_code == 200 and "Month-end calendar" not in page.content.decode()
    assert groups_of("frank") == {"finance-visitors"}
    assert "frank: groups removed: finance-staff" in out.getvalue()
    event = SecurityEvent.objects.get(event_type=EventType.DIRECTORY_SYNC)
    assert event.success and event.detail["checked"] == 1 and event.detail["updated"] == 1
    assert event.detail["changes"] == [{"username": "frank", "groups_removed": ["finance-staff"]}]


def test_sync_reports_attribute_and_flag_changes_and_leaves_local_accounts_alone(directory):
    emergency, _ = make_break_glass_admin()
    sign_in("fiona")
    sign_in("admin")
    directory.replace_attribute("fiona", "title", "Finance lead")
    directory.remove_member("atrium-admins", "admin")
    out = io.StringIO()
    call_command("sync_directory", stdout=out)
    assert "2 users checked, 2 updated, 0 deactivated" in out.getvalue()
    assert "fiona: title: 'Finance portal editor' → 'Finance lead'" in out.getvalue()
    changes = {
        c["username"]: c for c in SecurityEvent.objects.get(event_type=EventType.DIRECTORY_SYNC).detail["changes"]
    }
    assert changes["admin"]["groups_removed"] == ["atrium-admins"]
    assert changes["admin"]["attributes"]["is_superuser"] == [True, False]
    emergency.refresh_from_db()
    assert emergency.is_active and emergency.is_superuser and emergency.source == "local"


def test_sync_deactivates_people_who_left_or_were_disabled_and_they_cannot_sign_in(demo, directory):
    sign_in("fiona")
    frank, _ = sign_in("frank")
    assert frank.get("/finance/").status_code == 200
    User.objects.create_user("dora", source=DirectorySource.LDAP)  # signed in before she was disabled
    directory.delete_person("frank")

    call_command("sync_directory", stdout=io.StringIO())

    assert not User.objects.get(username="frank").is_active and not User.objects.get(username="dora").is_active
    assert User.objects.get(username="fiona").is_active
    deactivated = SecurityEvent.objects.filter(event_type=EventType.USER_DEACTIVATED)
    assert sorted(deactivated.values_list("username", flat=True)) == ["dora", "frank"]
    assert frank.get("/finance/").status_code == 302  # the open session ended with the account
    assert refused(sign_in("frank")[1])


def test_sync_with_a_dn_template_deactivates_a_deleted_entry(slapd):
    with use_ldap(slapd.ldap_uri, LDAP_USER_DN_TEMPLATE=f"uid=%(user)s,{PEOPLE}"):
        sign_in("fiona")
        sign_in("frank")
        slapd.delete_person("frank")  # read by its DN, a deleted entry is NO_SUCH_OBJECT: gone, not an outage
        call_command("sync_directory", stdout=io.StringIO())
    assert not User.objects.get(username="frank").is_active and User.objects.get(username="fiona").is_active


def test_sync_with_the_directory_down_reports_the_error_and_changes_nothing(directory):
    sign_in("fiona")
    sign_in("frank")
    directory.outage()
    out = io.StringIO()
    with pytest.raises(CommandError, match="Directory sync failed"):
        call_command("sync_directory", stdout=out)
    assert "FAILED" in out.getvalue() and "Nobody was deactivated" in out.getvalue()
    assert User.objects.filter(is_active=True, source="ldap").count() == 2
    assert groups_of("frank") == {"finance-staff"}
    event = SecurityEvent.objects.get(event_type=EventType.DIRECTORY_SYNC)
    assert not event.success and "SERVER_DOWN" in event.detail["error"] and event.detail["checked"] == 0
    assert SecurityEvent.objects.filter(event_type=EventType.DIRECTORY_UNAVAILABLE).exists()
