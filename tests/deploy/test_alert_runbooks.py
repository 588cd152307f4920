"""Every alert in deploy/monitoring/rules/atrium.rules.yml has a runbook page, and every page has its alert.

The page of alert `GaleraNoWriter` is docs/runbooks/alerts/galera-no-writer.md: it names the alert, the alerts
index links it, and the site's navigation lists it. A page whose alert was removed or renamed is stale and fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .conftest import DEPLOY, ROOT

RULES = DEPLOY / "monitoring" / "rules" / "atrium.rules.yml"
ALERT_PAGES = ROOT / "docs" / "runbooks" / "alerts"
INDEX = ALERT_PAGES / "index.md"
MKDOCS = ROOT / "mkdocs.yml"


def kebab(name: str) -> str:
    """The page name of an alert: `GaleraNoWriter` -> `galera-no-writer`.

    Capitals in a row stay one word: `AtriumAPIErrors` -> `atrium-api-errors`.
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def alert_names() -> list[str]:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


def alert_pages() -> list[Path]:
    return sorted(path for path in ALERT_PAGES.glob("*.md") if path != INDEX)


def nav_entries(node: object) -> list[str]:
    """Every page path in mkdocs.yml's nav, however deeply nested."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in nav_entries(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in nav_entries(value)]
    return []


def test_kebab_case() -> None:
    assert kebab("GaleraNoWriter") == "galera-no-writer"
    assert kebab("AtriumApiErrorRateHigh") == "atrium-api-error-rate-high"
    assert kebab("AtriumAPIErrors") == "atrium-api-errors"
    assert kebab("AtriumHTTP5xxHigh") == "atrium-http5xx-high"


def test_the_rules_define_alerts() -> None:
    names = alert_names()
    assert names, f"no `alert:` in {RULES}"
    assert len(names) == len(set(names)), "an alert name is defined twice"


@pytest.mark.parametrize("name", alert_names())
def test_every_alert_has_a_page_that_names_it(name: str) -> None:
    page = ALERT_PAGES / f"{kebab(name)}.md"
    assert page.is_file(), f"alert {name} has no runbook page: write {page.relative_to(ROOT)}"
    text = page.read_text(encoding="utf-8")
    assert re.search(rf"^# {re.escape(name)}\s*$", text, re.MULTILINE), f"{page.name} must start with '# {name}'"


@pytest.mark.parametrize("page", alert_pages(), ids=lambda path: path.name)
def test_every_page_has_its_alert(page: Path) -> None:
    pages_by_name = {f"{kebab(name)}.md": name for name in alert_names()}
    assert page.name in pages_by_name, (
        f"{page.relative_to(ROOT)} describes no alert of {RULES.relative_to(ROOT)}: "
        "the alert was renamed or removed, so rename or delete the page (and its index and nav entries)"
    )


@pytest.mark.parametrize("name", alert_names())
def test_the_index_links_every_page(name: str) -> None:
    index = INDEX.read_text(encoding="utf-8")
    assert f"]({kebab(name)}.md)" in index, f"{INDEX.relative_to(ROOT)} does not link {kebab(name)}.md"


def test_the_site_navigation_lists_every_page() -> None:
    # mkdocs.yml may carry tags for plugins (!!python/name:…, !ENV); BaseLoader reads them as plain strings.
    config = yaml.load(MKDOCS.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    listed = set(nav_entries(config["nav"]))
    expected = {"runbooks/alerts/index.md"} | {f"runbooks/alerts/{page.name}" for page in alert_pages()}
    missing = sorted(expected - listed)
    assert not missing, f"mkdocs.yml's nav (Runbooks → Alerts) lacks: {', '.join(missing)}"
