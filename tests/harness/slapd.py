"""A private OpenLDAP slapd for tests, loaded with fixtures/directory.ldif.

Built on python-ldap's `slapdtest.SlapdObject` (how django-auth-ldap tests itself): a real slapd on a free port
of 127.0.0.1, its configuration and database in a temporary directory, removed again by `stop()`. Tests can
stop and resume it (an outage), and change entries through python-ldap as the directory's administrator.

`start_slapd()` raises ServerUnavailable when slapd cannot run here; `slapd_server()` turns that into a skip, or
a failure under CI=true, as every real-server fixture does.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tests.harness.servers import ServerUnavailable

FIXTURE_LDIF = Path(__file__).resolve().parents[2] / "fixtures" / "directory.ldif"
SUFFIX = "dc=example,dc=com"
SERVICE_DN = f"cn=atrium,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "atrium-service"  # the throw-away test directory's search account
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

try:  # python-ldap is an optional requirement (requirements/ldap.txt); without it there is no slapd to test with
    import ldap
    import ldap.dn
    import ldap.modlist
    from slapdtest import SlapdObject
except ImportError as exc:  # pragma: no cover - depends on the machine
    _IMPORT_ERROR: ImportError | None = exc
    SlapdObject = object
else:
    _IMPORT_ERROR = None


class AtriumSlapd(SlapdObject):  # type: ignore[misc,valid-type]
    """slapd with the schemas inetOrgPerson needs, the example.com suffix, and the demo directory loaded."""

    suffix = SUFFIX
    openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", "nis.ldif")
    slapd_loglevel = "0"  # slapd's per-operation "stats" logging would flood the test output

    def __init__(self) -> None:
        # slapdtest puts its run directory under $TMP or the current directory (the repository): use our own.
        self._parent = Path(tempfile.mkdtemp(prefix="atrium-slapd-"))
        self.TMPDIR = str(self._parent)
        super().__init__()
        self.running = False

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        super().start()
        self.running = True
        self.load_fixture()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            super().stop()
        self.running = False
        shutil.rmtree(self._parent, ignore_errors=True)

    def outage(self) -> None:
        """Stop slapd but keep its data, so `resume()` brings back the same directory on the same port."""
        if self.running:
            self.terminate()
            self.wait()
            self.running = False

    def resume(self) -> None:
        if not self.running:
            super().resume()
            self.running = True

    # ---- data ----------------------------------------------------------------------------------------------
    def load_fixture(self) -> None:
        """(Re)load fixtures/directory.ldif, replacing whatever the tests changed."""
        connection = self.connect()
        try:
            # Deepest entries first. (Not `ldapdelete -r`: slapd 2.5 crashes on it when the suffix is missing.)
            with contextlib.suppress(ldap.NO_SUCH_OBJECT):
                entries = connection.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
                for dn, _ in sorted(entries, key=lambda entry: -len(ldap.dn.str2dn(entry[0]))):
                    connection.delete_s(dn)
        finally:
            connection.unbind_s()
        self.ldapadd(FIXTURE_LDIF.read_text(encoding="utf-8"))

    def connect(self) -> Any:
        """A python-ldap connection bound as the directory's administrator."""
        connection = ldap.initialize(self.ldap_uri, bytes_mode=False)
        connection.simple_bind_s(self.root_dn, self.root_pw)
        return connection

    def remove_member(self, group: str, uid: str) -> None:
        """Take a person out of a groupOfNames (an ldapmodify through python-ldap)."""
        connection = self.connect()
        try:
            dn = f"cn={group},{GROUPS}"
            member = f"uid={uid},{PEOPLE}".encode()
            (_, attrs), *_ = connection.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["member"])
            if attrs.get("member") == [member]:
                # groupOfNames must have a member: an empty group holds the empty DN, as directory tools do.
                connection.modify_s(dn, [(ldap.MOD_REPLACE, "member", [b""])])
            else:
                connection.modify_s(dn, [(ldap.MOD_DELETE, "member", [member])])
        finally:
            connection.unbind_s()

    def replace_attribute(self, uid: str, attribute: str, value: str) -> None:
        connection = self.connect()
        try:
            connection.modify_s(f"uid={uid},{PEOPLE}", [(ldap.MOD_REPLACE, attribute, [value.encode()])])
        finally:
            connection.unbind_s()

    def delete_person(self, uid: str) -> None:
        """Delete a person's entry (their group memberships stay dangling, as they do in a real directory)."""
        connection = self.connect()
        try:
            connection.delete_s(f"uid={uid},{PEOPLE}")
        finally:
            connection.unbind_s()

    def add_group(self, name: str, members: list[str]) -> None:
        connection = self.connect()
        try:
            entry = {
                "objectClass": [b"groupOfNames"],
                "cn": [name.encode()],
                "member": [f"uid={uid},{PEOPLE}".encode() for uid in members],
            }
            connection.add_s(f"cn={name},{GROUPS}", ldap.modlist.addModlist(entry))
        finally:
            connection.unbind_s()


def start_slapd() -> AtriumSlapd:
    """A running slapd with the demo directory; ServerUnavailable if slapd cannot run here."""
    if _IMPORT_ERROR is not None:
        raise ServerUnavailable(f"python-ldap is not installed ({_IMPORT_ERROR}); see requirements/ldap.txt")
    try:
        server = AtriumSlapd()
    except (ValueError, OSError) as exc:  # slapdtest: slapd, ldapadd or the schema directory not found
        raise ServerUnavailable(f"slapd is not installed: {exc}") from exc
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        server.stop()
        hint = ""
        if Path("/sys/kernel/security/apparmor").exists():
            hint = (
                " If AppArmor confines slapd, allow it the temporary directory (aa-complain /usr/sbin/slapd, or add "
                "the temp directory to /etc/apparmor.d/local/usr.sbin.slapd)."
            )
        raise ServerUnavailable(f"slapd did not start: {exc}.{hint}") from exc
    return server


def slapd_or_skip() -> AtriumSlapd:
    """For fixtures: a running slapd, or a skip (a failure under CI=true) that says why there is none."""
    import pytest

    from tests.harness.plugin import in_ci

    try:
        return start_slapd()
    except ServerUnavailable as exc:
        message = f"this test needs a real OpenLDAP slapd, which the harness could not start: {exc}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
