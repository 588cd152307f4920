"""core.dbbackend: a connection attempt that a dying database node refused or dropped is made once more."""

from __future__ import annotations

from typing import Any

import MySQLdb
import pytest
from django.db.backends.mysql import base as mysql_base

from core.dbbackend import base


class Attempts:
    """Stands in for the real connect: fails with the given errors, then returns a connection marker."""

    def __init__(self, *errors: int) -> None:
        self.errors = list(errors)
        self.count = 0

    def __call__(self, params: dict[str, Any]) -> str:
        self.count += 1
        if self.errors:
            raise MySQLdb.OperationalError(self.errors.pop(0), "simulated")
        return "connection"


def patch(monkeypatch: pytest.MonkeyPatch, attempts: Attempts) -> None:
    monkeypatch.setattr(mysql_base.DatabaseWrapper, "get_new_connection", lambda _self, params: attempts(params))


@pytest.fixture
def wrapper(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(base, "RETRY_PAUSE_SECONDS", 0)
    return object.__new__(base.DatabaseWrapper)


@pytest.mark.parametrize("code", [2002, 2003, 2013])
def test_a_refused_or_dropped_connect_is_tried_once_more(wrapper: Any, monkeypatch: pytest.MonkeyPatch, code: int):
    attempts = Attempts(code)
    patch(monkeypatch, attempts)
    assert wrapper.get_new_connection({}) == "connection" and attempts.count == 2


def test_only_once_and_never_for_other_errors(wrapper: Any, monkeypatch: pytest.MonkeyPatch):
    twice = Attempts(2003, 2003)
    patch(monkeypatch, twice)
    with pytest.raises(MySQLdb.OperationalError):
        wrapper.get_new_connection({})
    assert twice.count == 2

    denied = Attempts(1045)  # access denied: trying again cannot help
    patch(monkeypatch, denied)
    with pytest.raises(MySQLdb.OperationalError):
        wrapper.get_new_connection({})
    assert denied.count == 1
