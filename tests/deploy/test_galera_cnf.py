"""deploy/galera: the per-node my.cnf renders for three nodes, parses, and carries Galera's required settings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import DEPLOY, need_tool

RENDER = DEPLOY / "galera" / "render-node-cnf.sh"
NODES = {"db1": "10.1.2.11", "db2": "10.1.2.12", "db3": "10.1.2.13"}
ENV = {
    "GALERA_NODES": ",".join(NODES.values()),
    "GALERA_SST_PASSWORD": "sst-secret",
    "GALERA_CLUSTER_NAME": "atrium-uat",
}


def render(name: str, address: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(RENDER), name, address],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        check=False,
    )


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name, address in NODES.items():
        result = render(name, address, **ENV)
        assert result.returncode == 0, result.stderr
        assert "@" not in "".join(
            line.split("#", 1)[0] for line in result.stdout.splitlines() if not line.startswith("wsrep_sst_auth")
        ), "a placeholder is left"
        path = tmp_path / f"{name}.cnf"
        path.write_text(result.stdout, encoding="utf-8")
        files[name] = path
    return files


def options(path: Path, group: str = "mysqld") -> dict[str, str]:
    tool = need_tool("my_print_defaults")
    result = subprocess.run([tool, f"--defaults-file={path}", group], capture_output=True, text=True, check=True)
    values = {}
    for line in result.stdout.splitlines():
        key, _, value = line.removeprefix("--").partition("=")
        values[key.replace("-", "_")] = value
    return values


def test_every_node_has_the_galera_settings(rendered: dict[str, Path]) -> None:
    for name, path in rendered.items():
        values = options(path)
        assert values["wsrep_on"] == "ON"
        assert values["binlog_format"] == "ROW"
        assert values["innodb_autoinc_lock_mode"] == "2"
        assert values["default_storage_engine"] == "InnoDB"
        assert values["wsrep_sst_method"] in ("mariabackup", "rsync")
        assert values["wsrep_sst_auth"] == "sst:sst-secret"
        assert values["wsrep_cluster_name"] == "atrium-uat"
        assert values["wsrep_cluster_address"] == "gcomm://10.1.2.11,10.1.2.12,10.1.2.13"
        assert values["wsrep_node_name"] == name
        assert values["wsrep_node_address"] == NODES[name]
        assert values["bind_address"] == NODES[name]
        assert "gcache.size=" in values["wsrep_provider_options"]
        assert "pc.weight=1" in values["wsrep_provider_options"]


def test_mariadbd_accepts_every_option(rendered: dict[str, Path]) -> None:
    """mariadbd refuses unknown variables even with --help, so this catches a misspelt option."""
    mariadbd = need_tool("mariadbd")
    for path in rendered.values():
        result = subprocess.run(
            [mariadbd, f"--defaults-file={path}", "--help", "--verbose"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "[ERROR]" not in result.stderr, result.stderr[-2000:]
        assert "wsrep-sst-method" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("db4", "10.1.2.14"), ENV, "not in GALERA_NODES"),
        (("db1", "10.1.2.11"), {"GALERA_NODES": ENV["GALERA_NODES"]}, "GALERA_SST_PASSWORD"),
        (("db1;rm", "10.1.2.11"), ENV, "unexpected characters"),
    ],
)
def test_render_refuses_bad_input(args: tuple[str, str], env: dict[str, str], message: str) -> None:
    result = render(*args, **env)
    assert result.returncode == 2
    assert message in result.stderr
