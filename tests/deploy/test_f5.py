"""deploy/f5: the tmsh configuration fragments are well-formed and consistent (no F5 here to load them into)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import DEPLOY

F5 = DEPLOY / "f5"
ENVIRONMENTS = ("dev", "uat", "prod")


def strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def balanced(text: str) -> bool:
    depth = 0
    in_string = False
    previous = ""
    for char in text:
        if char == '"' and previous != "\\":
            in_string = not in_string
        elif not in_string and char == "{":
            depth += 1
        elif not in_string and char == "}":
            depth -= 1
            if depth < 0:
                return False
        previous = char
    return depth == 0 and not in_string


@pytest.mark.parametrize("path", sorted(F5.glob("*.scf")), ids=lambda p: p.name)
def test_braces_and_quotes_balance(path: Path) -> None:
    assert balanced(strip_comments(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ltm_objects_reference_each_other(env: str) -> None:
    text = strip_comments((F5 / f"ltm-{env}.scf").read_text(encoding="utf-8"))
    defined = set(re.findall(r"^ltm \S+(?: \S+)? (\S+) \{", text, re.MULTILINE))
    for name in (
        f"atrium-{env}-ready",
        f"atrium-{env}-web",
        f"atrium-{env}-http",
        f"atrium-{env}-https",
        f"atrium-{env}-clientssl",
        f"atrium-{env}-serverssl",
        f"atrium-{env}-snat",
        "atrium-request-id",
    ):
        assert name in defined, name
    assert f"monitor atrium-{env}-ready" in text
    assert f"pool atrium-{env}-web" in text
    assert "insert-xforwarded-for enabled" in text
    assert 'header-insert "X-Forwarded-Proto: https"' in text


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_monitor_asks_readiness_and_expects_ready(env: str) -> None:
    text = (F5 / f"ltm-{env}.scf").read_text(encoding="utf-8")
    monitor = text[text.index(f"ltm monitor https atrium-{env}-ready") :]
    monitor = monitor[: monitor.index("\n}\n")]
    send = re.search(r'send "(.*)"', monitor)
    recv = re.search(r'recv "(.*)"', monitor)
    assert send and recv
    assert send.group(1).startswith("GET /-/health/ready HTTP/1.1\\r\\nHost: ")
    assert send.group(1).endswith("\\r\\n\\r\\n")
    # The receive string, unescaped, is what a ready instance (and nginx in maintenance) answers.
    assert recv.group(1).replace('\\"', '"') == '"status": "ready"'
    assert '"status": "not ready"'.find(recv.group(1).replace('\\"', '"')) == -1


def test_gtm_has_a_wide_ip_per_environment() -> None:
    text = strip_comments((F5 / "gtm-atrium.scf").read_text(encoding="utf-8"))
    wideips = re.findall(r"^gtm wideip a /Common/(\S+) \{", text, re.MULTILINE)
    assert sorted(wideips) == ["atrium-dev.example.com", "atrium-uat.example.com", "atrium.example.com"]
    pools = set(re.findall(r"^gtm pool a /Common/(\S+) \{", text, re.MULTILINE))
    for referenced in re.findall(r"/Common/(atrium-\w+-region-\w) \{ order", text):
        assert referenced in pools
    assert text.count("pool-lb-mode global-availability") == 3
