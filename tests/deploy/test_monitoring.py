"""deploy/monitoring: promtool checks the scrape config and the rules and runs the rule unit tests; the Grafana
dashboard loads, every panel uses the dashboard's Prometheus data source, and every query parses as PromQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import DEPLOY, need_tool

MONITORING = DEPLOY / "monitoring"
DASHBOARD = MONITORING / "grafana" / "atrium-overview.json"


def promtool(*args: str, cwd: Path | None = None) -> str:
    tool = need_tool("promtool")
    result = subprocess.run([tool, *args], capture_output=True, text=True, cwd=cwd, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_rules_are_valid() -> None:
    output = promtool("check", "rules", str(MONITORING / "rules" / "atrium.rules.yml"))
    assert "SUCCESS" in output


def test_rule_unit_tests_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", "atrium.rules.test.yml", cwd=MONITORING / "rules")


def test_scrape_config_is_valid() -> None:
    # --syntax-only: the token and CA files it names exist only on the Prometheus servers.
    assert "SUCCESS" in promtool("check", "config", "--syntax-only", str(MONITORING / "prometheus.yml"))


def test_the_required_alerts_exist() -> None:
    groups = yaml.safe_load((MONITORING / "rules" / "atrium.rules.yml").read_text(encoding="utf-8"))["groups"]
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}
    expressions = " ".join(rule["expr"] for rule in rules.values())
    for needed in (
        "AtriumInstanceDown",
        "AtriumNotReady",
        "GaleraClusterDegraded",
        "AtriumDataStale",
        "AtriumJobFailures",
        "AtriumBreakGlassUsed",
        "AtriumSecurityAlertRaised",
        "AtriumApiErrorRateHigh",
    ):
        assert needed in rules, needed
    assert "atrium_sync_stale) == 1" in expressions
    assert "wsrep_cluster_size) < 3" in expressions
    for rule in rules.values():
        assert rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]


def test_scrape_config_uses_the_bearer_token() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text(encoding="utf-8"))
    web = next(job for job in config["scrape_configs"] if job["job_name"] == "atrium-web")
    assert web["metrics_path"] == "/metrics"
    assert web["authorization"]["type"] == "Bearer"
    assert web["authorization"]["credentials_file"]


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # rows
    return found


def test_dashboard_panels_use_the_prometheus_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert dashboard["uid"] and dashboard["title"]
    all_panels = panels(dashboard)
    assert len(all_panels) >= 8
    assert len({p["id"] for p in all_panels}) == len(all_panels), "panel ids must be unique"
    for panel in all_panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"]) == panel["datasource"]
            assert target["expr"].strip()


def test_dashboard_queries_parse_as_promql(tmp_path: Path) -> None:
    """promtool has no query checker: each query becomes a recording rule, which `check rules` parses."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    rules = []
    for panel in panels(dashboard):
        for target in panel["targets"]:
            expr = target["expr"].replace("$environment", "prod")
            rules.append({"record": f"dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    assert f"SUCCESS: {len(rules)} rules found" in promtool("check", "rules", str(path))


@pytest.mark.parametrize("path", sorted(MONITORING.rglob("*.yml")), ids=lambda p: p.name)
def test_monitoring_yaml_loads(path: Path) -> None:
    assert yaml.safe_load(path.read_text(encoding="utf-8"))
