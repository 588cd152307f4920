"""deploy/logging: the rsyslog snippet forwards over TCP with a disk-assisted queue, and the Vector example reads
the journal, parses Atrium's JSON lines and buffers on disk; both match what Atrium sends (app names, facilities).
(rsyslogd and vector are not installed by the test harness: these check the files' content, not the daemons.)"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from core.logging import logging_config

LOGGING_DIR = Path(__file__).resolve().parents[2] / "deploy" / "logging"


def test_rsyslog_forwards_over_tcp_with_a_disk_assisted_queue() -> None:
    text = (LOGGING_DIR / "30-atrium.conf").read_text(encoding="utf-8")
    forward = re.search(r'type="omfwd"(.*?)\n    \)', text, re.S)
    assert forward, "no omfwd action"
    action = forward.group(1)
    for setting in (
        'protocol="tcp"',
        'TCP_Framing="octet-counted"',
        'queue.type="LinkedList"',
        'queue.filename="atrium_forward"',
        'queue.saveOnShutdown="on"',
        'action.resumeRetryCount="-1"',
    ):
        assert setting in action, setting
    assert 'input(type="imudp" address="127.0.0.1" port="514"' in text  # loopback only
    assert '"atrium-security"' in text and '$programname startswith "atrium-"' in text


def test_rsyslog_matches_the_app_names_atrium_sends() -> None:
    config = logging_config(log_format="json", syslog_address="127.0.0.1:514")
    app_names = {
        config["formatters"][handler["formatter"]]["app_name"]
        for name, handler in config["handlers"].items()
        if "syslog" in name
    }
    assert app_names == {"atrium", "atrium-security"}


def test_vector_reads_the_journal_parses_json_and_buffers_on_disk() -> None:
    config = yaml.safe_load((LOGGING_DIR / "vector.yaml").read_text(encoding="utf-8"))
    source = config["sources"]["atrium_journal"]
    assert source["type"] == "journald"
    assert set(source["include_matches"]["SYSLOG_IDENTIFIER"]) == {"atrium-web", "atrium-job"}
    transform = config["transforms"]["atrium_parsed"]
    assert transform["inputs"] == ["atrium_journal"] and "parse_json(.message)" in transform["source"]
    sink = config["sinks"]["aggregator"]
    assert sink["inputs"] == ["atrium_parsed"]
    assert sink["buffer"]["type"] == "disk" and sink["buffer"]["when_full"] == "block"
