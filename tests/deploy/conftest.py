"""Helpers for the deploy/ configuration tests: find the validating tools, or skip (fail under CI=true)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.harness.plugin import in_ci

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# The Debian package that brings each tool (the Makefile's TEST_SYSTEM_PACKAGES must list them).
TOOL_PACKAGES = {
    "nginx": "nginx",
    "haproxy": "haproxy",
    "shellcheck": "shellcheck",
    "cloud-init": "cloud-init",
    "promtool": "prometheus",
    "my_print_defaults": "mariadb-server",
    "mariadbd": "mariadb-server",
    "systemd-analyze": "systemd",
}


def need_tool(name: str) -> str:
    """The path of a command-line tool; skip the test without it (fail under CI=true, where it must be there)."""
    path = shutil.which(name) or next(
        (str(p) for d in ("/usr/sbin", "/sbin", "/usr/local/sbin") if (p := Path(d) / name).exists()), None
    )
    if path:
        return path
    message = f"{name} is not installed (Debian package {TOOL_PACKAGES.get(name, name)})"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
