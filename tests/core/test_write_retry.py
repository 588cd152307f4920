"""A write that loses a deadlock on real MariaDB is retried as a whole transaction and succeeds."""

from __future__ import annotations

import threading

import MySQLdb
import pytest
from django.db import OperationalError, connection

from core.services import is_retryable, run_in_transaction
from tenants.models import Page, Section

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


def _raw_connection() -> MySQLdb.Connection:
    s = connection.settings_dict
    return MySQLdb.connect(
        host=s["HOST"], port=int(s["PORT"]), user=s["USER"], password=s["PASSWORD"], database=s["NAME"]
    )


def test_deadlocked_service_transaction_is_retried_and_succeeds(mariadb):
    x = Section.objects.create(slug="section-x", name="X")
    y = Section.objects.create(slug="section-y", name="Y")
    for n in range(30):  # make the other transaction heavier, so InnoDB picks the service as the victim
        Page.objects.create(section=y, slug=f"p{n}", title=f"P{n}", body="")
    other_locked_y, service_locked_x, other_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        conn = _raw_connection()
        try:
            cursor = conn.cursor()
            cursor.execute("UPDATE tenants_page SET body = CONCAT(body, '.') WHERE section_id = %s", [y.pk])
            cursor.execute("UPDATE tenants_section SET description = 'other' WHERE id = %s", [y.pk])
            other_locked_y.set()
            service_locked_x.wait(10)
            cursor.execute("UPDATE tenants_section SET description = 'other' WHERE id = %s", [x.pk])
            conn.commit()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
        finally:
            conn.close()
            other_done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    assert other_locked_y.wait(10)
    attempts: list[int] = []

    def work() -> None:
        attempts.append(1)
        Section.objects.filter(pk=x.pk).update(description=f"service attempt {len(attempts)}")
        if len(attempts) == 1:
            service_locked_x.set()
            threading.Event().wait(0.5)  # let the other writer queue up behind our lock on x
        Section.objects.filter(pk=y.pk).update(description=f"service attempt {len(attempts)}")

    run_in_transaction(work)
    thread.join(10)
    assert not errors, errors
    assert len(attempts) == 2, "the first attempt should have lost the deadlock and been retried once"
    assert Section.objects.get(pk=x.pk).description == "service attempt 2"
    assert Section.objects.get(pk=y.pk).description == "service attempt 2"
    assert Page.objects.all_sections().filter(section=y, body=".").count() == 30  # the other writer committed


def test_non_retryable_errors_are_raised_at_once(mariadb):
    attempts: list[int] = []

    def work() -> None:
        attempts.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match="no_such_table"):
        run_in_transaction(work)
    assert attempts == [1]


def test_is_retryable_knows_deadlock_and_lock_wait_codes():
    assert is_retryable(OperationalError(1213, "Deadlock found"))
    assert is_retryable(OperationalError(1205, "Lock wait timeout exceeded"))
    assert not is_retryable(OperationalError(2006, "MySQL server has gone away"))
