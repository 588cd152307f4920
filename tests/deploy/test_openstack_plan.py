"""deploy/openstack: the dry-run plan of each environment names every network, security group and server.

The dry run must work without openstacksdk, credentials or network: a stand-in `openstack` package that fails on
import is put first on the path, so the test fails if the dry run ever imports the SDK.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import DEPLOY

OPENSTACK = DEPLOY / "openstack"


@pytest.fixture
def no_sdk(tmp_path: Path) -> dict[str, str]:
    package = tmp_path / "openstack"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('the dry run must not import openstacksdk')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    return env | {"PYTHONPATH": str(tmp_path), "PYTHON": sys.executable}


def expected_names(env: dict) -> set[str]:
    names = {net["name"] for net in env["networks"]} | {group["name"] for group in env["security_groups"]}
    for server in env["servers"]:
        names |= {f"atrium-{env['name']}-{server['role']}-{n}" for n in range(1, server["count"] + 1)}
    return names


@pytest.mark.parametrize("name", ["dev", "uat", "prod"])
@pytest.mark.parametrize("runner", ["bash", "python"])
def test_dry_run_plan_names_everything(name: str, runner: str, no_sdk: dict[str, str]) -> None:
    env = yaml.safe_load((OPENSTACK / "environments" / f"{name}.yaml").read_text(encoding="utf-8"))
    command = (
        ["bash", str(OPENSTACK / "create-environment.sh"), name, "--dry-run"]
        if runner == "bash"
        else [sys.executable, str(OPENSTACK / "atrium_env.py"), name, "--dry-run"]
    )
    result = subprocess.run(command, capture_output=True, text=True, env=no_sdk, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    created = {line.split(None, 2)[2].split("  (")[0] for line in plan.splitlines() if line.startswith("create ")}
    missing = expected_names(env) - created
    assert not missing, f"not in the plan: {sorted(missing)}"
    assert f"create router          atrium-{name}-router" in plan
    assert "server_group=atrium-" + name + "-db-group" in plan  # Galera nodes on different hypervisors
    assert "nothing was created" in plan
    servers = [line for line in plan.splitlines() if line.startswith("create server ")]
    assert len(servers) == sum(server["count"] for server in env["servers"])
    assert all("user_data=" in line for line in servers)


def test_prod_has_three_database_nodes_and_standby_region(no_sdk: dict[str, str]) -> None:
    env = yaml.safe_load((OPENSTACK / "environments" / "prod.yaml").read_text(encoding="utf-8"))
    assert next(s for s in env["servers"] if s["role"] == "db")["count"] == 3
    assert env["standby_region"]
    result = subprocess.run(
        [sys.executable, str(OPENSTACK / "atrium_env.py"), "prod", "--dry-run", "--region", env["standby_region"]],
        capture_output=True,
        text=True,
        env=no_sdk,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"region {env['standby_region']}" in result.stdout.splitlines()[0]


def test_inconsistent_environment_is_refused(tmp_path: Path, no_sdk: dict[str, str]) -> None:
    env = yaml.safe_load((OPENSTACK / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    env["servers"][0]["security_groups"] = ["no-such-group"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(env), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(OPENSTACK / "atrium_env.py"), str(broken), "--dry-run"],
        capture_output=True,
        text=True,
        env=no_sdk,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown security group no-such-group" in result.stderr


def test_unknown_environment_is_refused(no_sdk: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", str(OPENSTACK / "create-environment.sh"), "staging", "--dry-run"],
        capture_output=True,
        text=True,
        env=no_sdk,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown environment" in result.stderr
