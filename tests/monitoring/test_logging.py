"""Structured logs: every line on standard output carries the request id, section and user id, as JSON (uat, prod)
or as a plain line (dev); the security stream keeps its own handler; both can also go to syslog."""

from __future__ import annotations

import json
import logging.config
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts.models import User
from core.logging import logging_config

pytestmark = pytest.mark.django_db

SECTION_LINE = "a line written while serving a section page"
RFC5424 = re.compile(
    r"^<(?P<pri>\d+)>1 (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<pid>\d+) (?P<msgid>\S+) - (?P<json>\{.*\})$"
)


@pytest.fixture
def configure_logging() -> Iterator[Callable[..., None]]:
    """Configure logging as the settings would with these LOG_* values; the test settings' logging afterwards."""

    def configure(**options: Any) -> None:
        logging.config.dictConfig(logging_config(**options))

    yield configure
    logging.config.dictConfig(django_settings.LOGGING)


@pytest.fixture
def section_pages(settings: Any, demo: Any) -> None:
    settings.ROOT_URLCONF = "tests.monitoring.urls_for_tests"


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_lines_carry_request_id_section_and_user(
    section_pages: None, sign_in: Any, configure_logging: Any, capsys: Any
) -> None:
    fiona = sign_in("fiona")
    configure_logging(log_format="json")
    capsys.readouterr()
    assert fiona.get("/finance/-log/", HTTP_X_REQUEST_ID="req-json-0001").status_code == 200
    line = next(entry for entry in _json_lines(capsys.readouterr().out) if entry["message"] == SECTION_LINE)
    assert line["request_id"] == "req-json-0001"
    assert line["section"] == "finance"
    assert line["user_id"] == User.objects.get(username="fiona").pk
    assert (line["level"], line["logger"]) == ("WARNING", "atrium.tests")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", line["time"])


def test_plain_lines_show_the_same_context(
    section_pages: None, sign_in: Any, configure_logging: Any, capsys: Any
) -> None:
    fiona = sign_in("fiona")
    configure_logging(log_format="plain")
    capsys.readouterr()
    fiona.get("/finance/-log/", HTTP_X_REQUEST_ID="req-plain-0001")
    fiona_id = User.objects.get(username="fiona").pk
    assert f"WARNING atrium.tests [req-plain-0001 finance {fiona_id}] {SECTION_LINE}" in capsys.readouterr().out


def test_djangos_own_lines_written_after_the_middleware_keep_the_request_id(
    db: Any, configure_logging: Any, capsys: Any
) -> None:
    configure_logging(log_format="json")
    capsys.readouterr()
    Client().get("/accounts/no-such-page/", HTTP_X_REQUEST_ID="req-404-0001")
    line = next(entry for entry in _json_lines(capsys.readouterr().out) if entry["logger"] == "django.request")
    assert line["message"].startswith("Not Found") and line["request_id"] == "req-404-0001"
    assert line["user_id"] is None and line["section"] is None
    assert "request" not in line  # the request object Django attaches is not dumped into the line


def test_security_events_keep_their_own_json_stream(db: Any, configure_logging: Any, capsys: Any) -> None:
    configure_logging(log_format="plain")
    capsys.readouterr()
    Client().post("/accounts/login/", {"username": "mallory", "password": "guess"}, HTTP_X_REQUEST_ID="req-sec-0001")
    captured = capsys.readouterr()
    security = [entry for entry in _json_lines(captured.err) if entry["logger"] == "atrium.security"]
    assert security and security[0]["event"] == "sign_in_failed" and security[0]["request_id"] == "req-sec-0001"
    assert "security event" not in captured.out  # not propagated to the application's stream


def _receive(sock: socket.socket, wanted: Callable[[dict[str, Any]], bool]) -> tuple[re.Match[str], dict[str, Any]]:
    seen = []
    while True:
        try:
            datagram = sock.recv(65535).decode()
        except TimeoutError:
            pytest.fail(f"no matching syslog message arrived; received: {seen}")
        seen.append(datagram)
        match = RFC5424.match(datagram)
        assert match, datagram
        body = json.loads(match["json"])
        if wanted(body):
            return match, body


def test_syslog_receives_rfc5424_messages_with_json_for_both_streams(
    section_pages: None, configure_logging: Any
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(5)
        port = listener.getsockname()[1]
        configure_logging(
            log_format="json",
            syslog_address=f"127.0.0.1:{port}",
            syslog_facility="local3",
            security_syslog_facility="authpriv",
        )
        Client().get("/finance/-log/", HTTP_X_REQUEST_ID="req-syslog-0001")
        header, body = _receive(listener, lambda body: body.get("message") == SECTION_LINE)
        assert body["request_id"] == "req-syslog-0001" and body["section"] == "finance"
        assert int(header["pri"]) == 19 * 8 + 4  # local3.warning
        assert (header["app"], header["msgid"]) == ("atrium", "atrium.tests")

        Client().post("/accounts/login/", {"username": "mallory", "password": "x"}, HTTP_X_REQUEST_ID="req-syslog-0002")
        header, body = _receive(listener, lambda body: body.get("event") == "sign_in_failed")
        assert body["request_id"] == "req-syslog-0002" and body["logger"] == "atrium.security"
        assert int(header["pri"]) == 10 * 8 + 4  # authpriv.warning
        assert header["app"] == "atrium-security"


def test_syslog_is_off_unless_an_address_is_set() -> None:
    config = logging_config(log_format="json")
    assert not any("syslog" in name for name in config["handlers"])
    assert config["handlers"]["console"]["formatter"] == "json"
    assert config["loggers"]["atrium.security"] == {"handlers": ["security"], "level": "INFO", "propagate": False}


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"log_format": "xml"}, "LOG_FORMAT"),
        ({"syslog_address": "logs.example.com:five-one-four"}, "LOG_SYSLOG_ADDRESS"),
        ({"syslog_address": "127.0.0.1:514", "syslog_facility": "local9"}, "local9"),
    ],
)
def test_wrong_log_settings_stop_the_start(options: dict[str, str], complaint: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=complaint):
        logging_config(**options)
