"""deploy/openstack/cloud-init: every user-data file is #cloud-config that cloud-init's own schema accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import DEPLOY, need_tool

FILES = sorted((DEPLOY / "openstack" / "cloud-init").glob("*.yaml"))


def test_one_user_data_file_per_role() -> None:
    assert {path.stem for path in FILES} == {"web", "db", "dbproxy", "jobs"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cloud_config_header_and_yaml(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    assert data.get("packages"), "installs its packages"
    assert "runcmd" in data


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_cloud_init_schema(path: Path) -> None:
    cloud_init = need_tool("cloud-init")
    result = subprocess.run(
        [cloud_init, "schema", "--config-file", str(path)], capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Valid cloud-config" in output
    assert "deprecat" not in output.lower(), output


def test_every_environment_uses_existing_user_data() -> None:
    for env in (DEPLOY / "openstack" / "environments").glob("*.yaml"):
        for server in yaml.safe_load(env.read_text(encoding="utf-8"))["servers"]:
            assert (DEPLOY / "openstack" / "cloud-init" / server["user_data"]).is_file(), (env.name, server)
