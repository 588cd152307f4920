"""Section bundles: export by natural keys, a field-by-field dry run, one-transaction import, and every refusal.

The round trip runs the real commands in a subprocess against a second, freshly migrated MariaDB database on the
harness's server, and compares the navigation each demo user would see in both databases.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from accounts.models import User
from audit.bundles import BundleError, apply_import, checksum, dry_run, export_section
from navigation import services as navigation_services
from navigation.menus import MenuEntry, menu_for_groups
from navigation.models import MenuItem, MenuItemGroup
from tenants import services as tenant_services
from tenants.models import Page, Section, SectionRole, SectionRoleKind

pytestmark = pytest.mark.django_db

DEMO_USERS = ("fiona", "frank", "hana", "audrey")
HISTORY_MODELS = (Section, SectionRole, Page, MenuItem, MenuItemGroup)


def _finance() -> Section:
    return Section.objects.get(slug="finance")


def _rehash(bundle: dict[str, Any]) -> dict[str, Any]:
    """A hand-made variant of a bundle that still passes the checksum (to reach the checks behind it)."""
    bundle["checksum"] = checksum(bundle)
    return bundle


def _history_rows() -> int:
    return sum(model.history.model.objects.count() for model in HISTORY_MODELS)  # type: ignore[attr-defined]


def _import(tmp_path: Path, bundle: dict[str, Any] | str, *args: str) -> str:
    path = tmp_path / f"bundle-{uuid.uuid4().hex[:6]}.json"
    path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle), encoding="utf-8")
    out = io.StringIO()
    call_command("import_section", str(path), *args, stdout=out)
    return out.getvalue()


def _walk(value: Any) -> list[str]:
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        return list(value) + [k for v in value.values() for k in _walk(v)]
    if isinstance(value, list):
        return [k for v in value for k in _walk(v)]
    return []


# Export ---------------------------------------------------------------------------------------------------------------


def test_export_names_everything_by_natural_keys(demo):
    bundle = export_section(_finance())
    assert bundle["format"] == "atrium-section-bundle" and bundle["schema_version"] == 1
    assert bundle["origin"]["environment"] == settings.ATRIUM_ENV
    assert bundle["origin"]["atrium_version"] == settings.ATRIUM_VERSION
    assert bundle["checksum"] == checksum(bundle)
    assert not {"id", "pk", "section_id", "page_id", "parent_id", "group_id"} & set(_walk(bundle))
    assert bundle["section"]["slug"] == "finance" and bundle["section"]["navigation_layout"] == "both"
    assert {"group": "finance-staff", "role": "viewer"} in bundle["roles"]
    menu = {entry["path"]: entry for entry in bundle["menu"]}
    travel = menu["Policies / Spending / Travel expenses"]
    assert travel["target"] == {"page": "travel-expenses"} and travel["label"] == "Travel expenses"
    assert menu["Editor guide"]["groups"] == ["finance-editors"]
    assert menu["Policies"]["target"] is None
    assert menu["Django documentation"]["target"] == {"url": "https://docs.djangoproject.com/en/5.2/"}
    # Parents come before their children, so an importer can create them in order.
    paths = [entry["path"] for entry in bundle["menu"]]
    assert paths.index("Policies") < paths.index("Policies / Spending") < paths.index(travel["path"])
    assert {page["slug"] for page in bundle["pages"]} >= {"home", "month-end", "travel-expenses"}


def test_export_command_writes_stdout_or_a_file(demo, tmp_path):
    out = io.StringIO()
    call_command("export_section", "finance", stdout=out)
    assert json.loads(out.getvalue())["section"]["slug"] == "finance"
    target = tmp_path / "finance.json"
    call_command("export_section", "finance", "--output", str(target), stderr=io.StringIO())
    assert json.loads(target.read_text(encoding="utf-8"))["menu"] == json.loads(out.getvalue())["menu"]
    with pytest.raises(CommandError, match="no section “payroll”"):
        call_command("export_section", "payroll", stdout=io.StringIO())


# Dry run and apply ----------------------------------------------------------------------------------------------------


def _drift_finance() -> None:
    """Make the target differ from the bundle in a page, a menu item and a role."""
    finance = _finance()
    page = Page.objects.all_sections().get(section=finance, slug="month-end")
    page.title = "Close calendar"
    tenant_services.save_page(page, actor=None, reason="drift")
    rules = MenuItem.objects.all_sections().get(section=finance, label="Budget rules")
    navigation_services.delete_menu_item(rules, actor=None, reason="drift")
    hr_staff = Group.objects.get(name="hr-staff")
    tenant_services.grant_section_role(finance, hr_staff, SectionRoleKind.VIEWER, actor=None, reason="drift")


def test_dry_run_lists_changes_field_by_field_and_changes_nothing(demo, tmp_path):
    bundle = export_section(_finance())
    _drift_finance()
    version, history = _finance().config_version, _history_rows()
    output = _import(tmp_path, bundle, "--dry-run")
    assert '~ page month-end: title "Close calendar" → "Month-end calendar"' in output
    assert "+ menu item Policies / Budget rules" in output
    assert "- role hr-staff viewer" in output
    assert "nothing was changed" in output
    assert _finance().config_version == version and _history_rows() == history
    assert Page.objects.all_sections().get(section=_finance(), slug="month-end").title == "Close calendar"


def test_apply_changes_everything_through_the_services_and_a_second_import_is_a_no_op(demo, sign_in, tmp_path):
    sign_in("fiona")
    bundle = export_section(_finance())
    _drift_finance()
    output = _import(tmp_path, bundle, "--apply", "--actor", "fiona")
    assert "Applied: 1 to create, 1 to change, 1 to delete." in output
    finance = _finance()
    page = Page.objects.all_sections().get(section=finance, slug="month-end")
    assert page.title == "Month-end calendar"
    entry = page.history.latest("history_date")
    origin = bundle["origin"]
    assert entry.history_change_reason == (
        f"Imported bundle from {origin['environment']} (schema v1, exported {origin['exported_at']})"
    )
    assert entry.history_user == User.objects.get(username="fiona")
    assert MenuItem.objects.all_sections().filter(section=finance, label="Budget rules").exists()
    assert not SectionRole.objects.all_sections().filter(section=finance, group__name="hr-staff").exists()
    assert export_section(finance)["menu"] == bundle["menu"]

    version, history = finance.config_version, _history_rows()
    assert "no changes" in _import(tmp_path, bundle, "--apply")
    assert _finance().config_version == version and _history_rows() == history


def test_create_makes_a_missing_section(demo, tmp_path):
    bundle = export_section(_finance())
    bundle["section"].update(slug="finance-copy", name="Finance copy")
    _rehash(bundle)
    output = _import(tmp_path, bundle, "--apply", "--create")
    assert "+ section finance-copy" in output
    copy_section = Section.objects.get(slug="finance-copy")
    assert export_section(copy_section)["menu"] == bundle["menu"]
    assert "no changes" in _import(tmp_path, bundle, "--dry-run")


# Refusals -------------------------------------------------------------------------------------------------------------


def _variant(bundle: dict[str, Any], change: str) -> dict[str, Any] | str:
    """One broken bundle per refusal; all but the hand-edited one carry a valid checksum."""
    b = copy.deepcopy(bundle)
    if change == "newer":
        b["schema_version"] = 2
    elif change == "missing-section":
        b["section"]["slug"] = "payroll"
    elif change == "unknown-groups":
        b["roles"].append({"group": "ghost-readers", "role": "viewer"})
        b["menu"][0]["groups"] = ["ghost-editors"]
    elif change == "not-json":
        return '{"format": "atrium-section-bundle", '
    elif change == "missing-key":
        del b["pages"]
    elif change == "wrong-type":
        b["menu"][0]["order"] = "ten"
    elif change == "hand-edited":
        b["pages"][0]["title"] = "Edited by hand"
        return b  # checksum deliberately left as exported
    elif change == "page-not-in-bundle":
        b["pages"] = [p for p in b["pages"] if p["slug"] != "travel-expenses"]
    elif change == "parent-not-in-bundle":
        b["menu"] = [e for e in b["menu"] if e["path"] != "Policies / Spending"]
    return _rehash(b)


REFUSALS = {
    "newer": "schema version 2, newer than this Atrium understands",
    "missing-section": "no section “payroll” in this environment",
    "unknown-groups": r"Unknown group\(s\) in this environment: ghost-editors, ghost-readers",
    "not-json": "not valid JSON",
    "missing-key": "bundle has missing pages",
    "wrong-type": r"menu\[0\].order must be int",
    "hand-edited": "checksum does not match",
    "page-not-in-bundle": "links to a page “travel-expenses” that is not in the bundle",
    "parent-not-in-bundle": "has a parent “Policies / Spending” that is not in the bundle",
}


@pytest.mark.parametrize("change", REFUSALS)
def test_refusals_have_a_clear_message_and_import_nothing(demo, tmp_path, change):
    bundle = export_section(_finance())
    _drift_finance()
    version, history = _finance().config_version, _history_rows()
    broken = _variant(bundle, change)
    with pytest.raises(CommandError, match=REFUSALS[change]):
        _import(tmp_path, broken, "--apply")
    assert _finance().config_version == version and _history_rows() == history
    assert Page.objects.all_sections().get(section=_finance(), slug="month-end").title == "Close calendar"


def test_the_service_raises_bundle_error(demo):
    bundle = export_section(_finance())
    with pytest.raises(BundleError, match="newer"):
        apply_import(_rehash({**bundle, "schema_version": 7}))
    assert issubclass(BundleError, ValueError)


def test_a_failure_late_in_the_apply_rolls_back_everything(demo, tmp_path):
    """The page change is applied before the menu; the bad route fails inside the same transaction."""
    bundle = export_section(_finance())
    _drift_finance()
    version, history = _finance().config_version, _history_rows()
    bundle["menu"][-1]["target"] = {"route": "no-such-route"}
    _rehash(bundle)
    with pytest.raises(BundleError, match="no platform route named “no-such-route”"):
        dry_run(bundle)  # the dry run rehearses the apply, so it sees what only the models' validation sees
    with pytest.raises(BundleError, match="no-such-route"):
        apply_import(bundle)
    assert Page.objects.all_sections().get(section=_finance(), slug="month-end").title == "Close calendar"
    assert _finance().config_version == version and _history_rows() == history


# Round trip between two real MariaDB databases --------------------------------------------------------------------


def _directory() -> dict[str, Any]:
    return yaml.safe_load((Path(settings.BASE_DIR) / "fixtures" / "directory.yaml").read_text(encoding="utf-8"))


def _entries(entries: list[MenuEntry], hrefs: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"label": e.label, "href": hrefs.get(e.href, e.href), "children": _entries(e.children, hrefs)} for e in entries
    ]


def menu_snapshot(slug: str) -> dict[str, Any]:
    """What each demo user would see in the section's navigation, in this database.

    A page's or report's address holds its database id, which by design differs between environments, so those
    links are compared by slug; every other href, every label and the nesting are compared as rendered.
    """
    from reports.models import ReportDefinition

    section = Section.objects.get(slug=slug)
    hrefs = {p.get_absolute_url(): f"page:{p.slug}" for p in Page.objects.all_sections().filter(section=section)}
    hrefs |= {r.get_absolute_url(): f"report:{r.slug}" for r in ReportDefinition.objects.filter(section=section)}
    users = _directory()["users"]
    snapshot = {}
    for username in DEMO_USERS:
        group_ids = set(Group.objects.filter(name__in=users[username]["groups"]).values_list("pk", flat=True))
        snapshot[username] = _entries(menu_for_groups(section, group_ids), hrefs)
    return snapshot


def _target_url(database: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "ATRIUM_READ_DOT_ENV": "false"}
    # The target has its own (local-memory) cache: sharing the test's Redis could mix two databases' rows.
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _shell_json(url: str, code: str) -> Any:
    out = _manage(url, "shell", "-v", "0", "-c", f"import json\n{code}")
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.mariadb
def test_round_trip_into_an_empty_second_database_renders_the_same_navigation(demo, mariadb, tmp_path):
    import MySQLdb

    source = export_section(_finance())
    bundle_file = tmp_path / "finance.json"
    bundle_file.write_text(json.dumps(source), encoding="utf-8")
    expected = menu_snapshot("finance")
    assert expected["fiona"] != expected["frank"]  # the comparison means something: the editors see more

    db = settings.DATABASES["default"]
    name = f"atrium_bundle_{uuid.uuid4().hex[:10]}"
    admin = MySQLdb.connect(host=db["HOST"], port=int(db["PORT"]), user=db["USER"], passwd=db["PASSWORD"])
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = _target_url(name)
    try:
        _manage(url, "migrate", "--noinput", "-v", "0")
        # The directory creates groups as people sign in or sync; a fresh environment has them before an import.
        groups = sorted(_directory()["groups"])
        _shell_json(
            url,
            "from django.contrib.auth.models import Group\n"
            f"print(json.dumps([Group.objects.get_or_create(name=n)[1] for n in {groups!r}]))",
        )
        with pytest.raises(AssertionError, match="no section “finance”"):
            _manage(url, "import_section", str(bundle_file), "--dry-run")
        assert "+ menu item Policies / Spending / Travel expenses" in _manage(
            url, "import_section", str(bundle_file), "--dry-run", "--create"
        )
        assert "Applied:" in _manage(url, "import_section", str(bundle_file), "--apply", "--create")

        state = (
            "from tests.audit.test_bundles import menu_snapshot, history_state\n"
            "print(json.dumps({'menu': menu_snapshot('finance'), 'state': history_state('finance')}))"
        )
        first = _shell_json(url, state)
        assert first["menu"] == expected
        assert "no changes" in _manage(url, "import_section", str(bundle_file), "--apply")
        assert _shell_json(url, state)["state"] == first["state"]  # no history rows, no version bump
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def history_state(slug: str) -> dict[str, int]:
    """The section's configuration version and its history row count (to prove a no-op import changed nothing)."""
    return {"config_version": Section.objects.get(slug=slug).config_version, "history_rows": _history_rows()}
