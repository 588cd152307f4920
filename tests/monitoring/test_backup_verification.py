"""The daily backup verification, for real: a `mariadb-dump` of the harness database is restored into a scratch
database and its key tables are counted; a missing, old or corrupt backup, or a scratch URL naming the live
database, fails the run with a clear message and an alert."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from jobs.models import JobRun, Outcome
from jobs.runner import run_job
from monitoring.backups import JOB_NAME, client_options

pytestmark = pytest.mark.django_db(transaction=True)  # the dump sees committed rows only


def _url(name: str) -> str:
    db = connection.settings_dict
    return f"mysql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"


@pytest.fixture
def backups(mariadb: None, tmp_path: Path, settings: Any) -> Path:
    """BACKUP_DIR in a temporary directory; the scratch database next to the test database on the same server."""
    directory = tmp_path / "backups"
    directory.mkdir()
    settings.BACKUP_DIR = str(directory)
    settings.BACKUP_MAX_AGE_HOURS = 26
    settings.BACKUP_SCRATCH_DATABASE_URL = _url(f"{connection.settings_dict['NAME']}_scratch")
    settings.SECURITY_ALERT_EMAILS = ["ops@example.com"]
    settings.ATRIUM_ROLE = "jobs"
    return directory


@pytest.fixture
def dump(backups: Path) -> Callable[..., Path]:
    """Dump the test database as the nightly job does: mariadb-dump … | gzip > BACKUP_DIR/atrium-….sql.gz."""

    def _dump(*extra: str, name: str = "atrium-nightly.sql.gz") -> Path:
        tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        assert tool, "mariadb-dump is part of the MariaDB client the harness uses"
        target = backups / name
        with client_options(connection.settings_dict) as options:
            result = subprocess.run(
                [tool, f"--defaults-file={options}", "--single-transaction", *extra, connection.settings_dict["NAME"]],
                capture_output=True,
                check=False,
            )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        with gzip.open(target, "wb") as handle:
            handle.write(result.stdout)
        return target

    return _dump


def _sections(*slugs: str) -> None:
    from tenants.models import Section

    for slug in slugs:
        Section.objects.create(slug=slug, name=slug.title())


def _last_run() -> JobRun:
    return JobRun.objects.filter(job=JOB_NAME).latest("id")


def test_the_newest_backup_restores_and_its_key_tables_match_the_live_ones(dump: Any, scrape: Any) -> None:
    _sections("finance", "hr")
    older = dump(name="atrium-older.sql.gz")
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    dump("--databases")  # the newest; made with --databases: its USE must not reach the live database
    _sections("after-the-dump")  # live now has a section the backup lacks: 2 of 3 is a warning, not a failure

    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun)
    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCESS, run.message + run.error
    tables = run.detail["tables"]
    assert tables["tenants_section"] == {"backup": 2, "live": 3}
    assert tables["django_migrations"]["backup"] == tables["django_migrations"]["live"] > 0
    assert run.detail["backup"]["path"].endswith("atrium-nightly.sql.gz")
    assert run.checks["rows:tenants_section"]["ok"] is False  # 2 of 3 is under BACKUP_MIN_ROW_RATIO (0.9)
    assert run.checks["rows:django_migrations"]["ok"] is True
    assert "atrium-nightly.sql.gz" in run.message and "tenants_section 2/3" in run.message
    assert "warnings" in run.message

    from tenants.models import Section

    assert Section.objects.filter(slug="after-the-dump").exists()  # the live database was not restored over
    with connection.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", [f"{connection.settings_dict['NAME']}_scratch"])
        assert cursor.fetchone() is None  # the scratch database is dropped afterwards

    result = scrape()
    verified = result.value("atrium_backup_last_verified_timestamp_seconds")
    assert verified is not None and abs(verified - time.time()) < 600
    assert 0 <= result.value("atrium_backup_age_seconds") < 600  # type: ignore[operator]
    assert result.value("atrium_backup_verified_rows", table="tenants_section") == 2
    assert not mail.outbox


def test_an_old_backup_fails_the_run_and_alerts(dump: Any, scrape: Any) -> None:
    backup = dump()
    two_days_ago = time.time() - 48 * 3600
    os.utime(backup, (two_days_ago, two_days_ago))
    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun) and run.outcome == Outcome.FAILED
    assert "is 48.0 hours old" in run.message and "BACKUP_MAX_AGE_HOURS=26" in run.message
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert "Backup verification failed" in mail.outbox[0].subject
    result = scrape()
    assert result.value("atrium_backup_last_verified_timestamp_seconds") == 0  # never verified
    assert 47 * 3600 < result.value("atrium_backup_age_seconds") < 49 * 3600  # type: ignore[operator]


def test_a_missing_backup_directory_fails_the_run_and_alerts(backups: Path, settings: Any) -> None:
    settings.BACKUP_DIR = str(backups / "not-mounted")
    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun) and run.outcome == Outcome.FAILED
    assert "not-mounted does not exist" in run.message
    assert len(mail.outbox) == 1


def test_an_empty_backup_directory_fails_the_run(backups: Path) -> None:
    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun) and run.outcome == Outcome.FAILED
    assert "No backup (*.sql.gz or *.sql)" in run.message


@pytest.mark.parametrize(
    ("name", "content", "complaint"),
    [
        ("truncated.sql.gz", gzip.compress(b"CREATE TABLE t (id int);\n" * 100, mtime=0)[:60], "corrupt or unreadable"),
        ("garbage.sql", b"this is not SQL at all;\n", "does not restore: ERROR 1064"),
    ],
    ids=["truncated-gzip", "not-sql"],  # fixed ids: pytest-xdist's workers must collect the same test names
)
def test_a_corrupt_backup_fails_with_a_clear_message(backups: Path, name: str, content: bytes, complaint: str) -> None:
    (backups / name).write_bytes(content)
    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun) and run.outcome == Outcome.FAILED
    assert complaint in run.message, run.message
    assert run.detail["backup"]["path"].endswith(name)


def test_a_scratch_url_naming_the_live_database_is_refused(dump: Any, settings: Any) -> None:
    _sections("finance")
    dump()
    settings.BACKUP_SCRATCH_DATABASE_URL = _url(connection.settings_dict["NAME"])
    with pytest.raises(CommandError, match="Refused: BACKUP_SCRATCH_DATABASE_URL names"):
        call_command("verify_backup")
    run = run_job(JOB_NAME)
    assert isinstance(run, JobRun) and run.outcome == Outcome.FAILED and "Refused" in run.message

    from tenants.models import Section

    assert Section.objects.filter(slug="finance").exists()


def test_the_command_verifies_a_given_file_without_recording_a_run(dump: Any, tmp_path: Path) -> None:
    backup = dump()
    elsewhere = tmp_path / "copy.sql.gz"
    shutil.copy(backup, elsewhere)
    out = StringIO()
    call_command("verify_backup", "--path", str(elsewhere), stdout=out)
    assert "Backup verified: copy.sql.gz" in out.getvalue()
    assert not JobRun.objects.filter(job=JOB_NAME).exists() and not mail.outbox
