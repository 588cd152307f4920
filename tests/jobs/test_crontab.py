"""The job servers' crontab: rendered by `manage.py render_crontab`, accepted by cron, and its lines really work.

- Quoting (no database): every path of a line is quoted for /bin/sh, so an installation directory, virtualenv,
  env file or log file with spaces or shell metacharacters still runs the right command, and nothing in them is
  executed. The lines are run with `sh -c`, as cron runs them, against a stub python that reports what it got.
- End to end (real MariaDB): the crontab rendered by the real command has one line per registered job with a valid
  five-field schedule, passes cron's own syntax check (`crontab -n`, Debian's dry run: root's real crontab is never
  touched), and the line of `audit.purge-expired`, run with `sh -c` in cron's bare environment, runs the job
  against the database named in the env file: a JobRun with outcome success, expired rows gone, output in the log.
"""

from __future__ import annotations

import io
import shlex
import shutil
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from croniter import croniter
from django.core.management import call_command
from django.utils import timezone

from accounts.models import SecurityEvent
from jobs.crontab import CrontabOptions, command, render
from jobs.models import JobRun, Outcome
from jobs.registry import JobSpec, all_jobs
from tests.conftest import need_server
from tests.jobs.testjobs import ROOT, current_database_url

PURGE_JOB = "audit.purge-expired"

STUB_PYTHON = """#!/bin/sh
printf 'cwd=%s\\n' "$PWD"
for arg in "$@"; do printf 'arg=%s\\n' "$arg"; done
printf 'role=%s\\n' "$ATRIUM_ROLE"
printf 'from-env-file=%s\\n' "$ATRIUM_FROM_ENV_FILE"
echo 'to stderr' >&2
"""


def _noop(ctx: object) -> None:
    """A job that does nothing."""


def _cron_lines(crontab: str) -> dict[str, tuple[str, str]]:
    """{job name: (schedule, command)} of a rendered crontab (comments and VAR=value lines left out)."""
    found: dict[str, tuple[str, str]] = {}
    for line in crontab.splitlines():
        if not line.strip() or line.startswith("#") or line.split("=", 1)[0].isidentifier():
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not a cron line: {line!r}"
        schedule, cmd = " ".join(fields[:5]), fields[5]
        words = shlex.split(cmd)
        name = words[words.index("run_job") + 1]
        assert name not in found, f"{name} has two lines"
        found[name] = (schedule, cmd)
    return found


def _crontab_variables(crontab: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in crontab.splitlines() if line and line.split("=", 1)[0].isidentifier())


def _run_like_cron(cmd: str, path: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run one crontab command as cron does: `/bin/sh -c`, with cron's bare environment (no DATABASE_URL…)."""
    env = {"PATH": path, "SHELL": "/bin/sh", "HOME": str(home), "LOGNAME": "root"}
    return subprocess.run(
        ["/bin/sh", "-c", cmd], env=env, cwd=home, capture_output=True, text=True, timeout=120, check=False
    )


# -----------------------------------------------------------------------------------------------------------------
# Quoting, with a stub python (no database)
# -----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def odd_install(tmp_path: Path) -> CrontabOptions:
    """An installation whose every path has spaces, quotes and shell metacharacters."""
    directory = tmp_path / "srv" / "at rium's $(touch pwned) `touch pwned`; echo"
    python = tmp_path / "virtual env" / "bin" / "py thon"
    env_file = tmp_path / "conf dir" / "jobs & web.env"
    log_file = tmp_path / "log dir" / "atrium jobs $HOME.log"
    for path in (directory, python.parent, env_file.parent, log_file.parent):
        path.mkdir(parents=True)
    python.write_text(STUB_PYTHON, encoding="utf-8")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    # The web instances' env file may well say ATRIUM_ROLE=web: the crontab line must still run as a job server.
    env_file.write_text("ATRIUM_FROM_ENV_FILE='read and exported'\nATRIUM_ROLE=web\n", encoding="utf-8")
    return CrontabOptions(directory=directory, python=python, env_file=env_file, log_file=log_file)


def test_a_line_with_spaces_and_metacharacters_in_every_path_runs_the_right_command(
    odd_install: CrontabOptions, tmp_path: Path
) -> None:
    name = "finance.it's; touch pwned-by-name"
    cmd = command(name, odd_install)
    result = _run_like_cron(cmd, "/usr/bin:/bin", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # everything went to the log file
    log = odd_install.log_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert log.splitlines() == [
        f"cwd={odd_install.directory}",
        "arg=manage.py",
        "arg=run_job",
        f"arg={name}",
        "role=jobs",
        "from-env-file=read and exported",
        "to stderr",
    ]
    assert not list(tmp_path.rglob("pwned*")), "a path or job name was executed by the shell"


def test_each_run_appends_to_the_log_file(odd_install: CrontabOptions, tmp_path: Path) -> None:
    cmd = command("audit.purge-expired", odd_install)
    for _ in range(2):
        assert _run_like_cron(cmd, "/usr/bin:/bin", tmp_path).returncode == 0
    log = odd_install.log_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert log.count("arg=audit.purge-expired") == 2


def test_without_env_or_log_file_the_line_runs_manage_py_with_the_role_only(tmp_path: Path) -> None:
    options = CrontabOptions(directory=Path("/opt/my atrium"), python=Path("/opt/my atrium/.venv/bin/python"))
    assert command("audit.purge-expired", options) == (
        "cd '/opt/my atrium' && ATRIUM_ROLE=jobs '/opt/my atrium/.venv/bin/python' manage.py run_job "
        "audit.purge-expired"
    )


def test_render_writes_one_described_line_per_job_and_mails_nobody_by_default() -> None:
    jobs = [
        JobSpec("finance.refresh", _noop, "*/15 6-20 * * 1-5", section="finance", description="Refresh AP data"),
        JobSpec("platform.tidy", _noop, "5 4 * * *"),
    ]
    options = CrontabOptions(directory=Path("/srv/atrium"), python=Path("/srv/atrium/.venv/bin/python"))
    crontab = render(options, jobs)
    assert _crontab_variables(crontab) == {"SHELL": "/bin/sh", "PATH": "/usr/local/bin:/usr/bin:/bin", "MAILTO": '""'}
    assert "# finance.refresh (finance): Refresh AP data" in crontab.splitlines()
    assert "# platform.tidy (platform)" in crontab.splitlines()
    assert {name: schedule for name, (schedule, _) in _cron_lines(crontab).items()} == {
        "finance.refresh": "*/15 6-20 * * 1-5",
        "platform.tidy": "5 4 * * *",
    }
    mailed = render(CrontabOptions(Path("/srv/atrium"), Path("/usr/bin/python3"), mail_to="ops@example.com"), jobs)
    assert _crontab_variables(mailed)["MAILTO"] == "ops@example.com"


def _render_in_process(**options: str) -> str:
    out = io.StringIO()
    call_command("render_crontab", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db  # the registry lists the configured sync sources' jobs from the database
def test_a_relative_env_file_is_found_when_cron_runs_the_line(
    odd_install: CrontabOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(odd_install.env_file.parent)  # type: ignore[union-attr]
    crontab = _render_in_process(
        directory=str(odd_install.directory),
        python=str(odd_install.python),
        env_file=odd_install.env_file.name,  # type: ignore[union-attr]
        log_file=str(odd_install.log_file),
    )
    result = _run_like_cron(_cron_lines(crontab)[PURGE_JOB][1], "/usr/bin:/bin", tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_a_percent_sign_in_a_path_is_escaped_for_cron() -> None:
    crontab = _render_in_process(directory="/srv/atrium 100%", python="/srv/atrium 100%/.venv/bin/python")
    for _, line in _cron_lines(crontab).values():
        assert "%" not in line.replace("\\%", ""), line


# -----------------------------------------------------------------------------------------------------------------
# End to end: the real command, cron's syntax check, a real run of a line
# -----------------------------------------------------------------------------------------------------------------
def _crontab_binary() -> str:
    """`crontab` (Debian package cron, in the Makefile's package list); missing: skip, or fail under CI."""
    binary = shutil.which("crontab")
    need_server("crontab (Debian package cron)", binary is not None)
    return str(binary)


@pytest.mark.mariadb
@pytest.mark.slow
def test_the_rendered_crontab_passes_cron_s_check_and_its_purge_line_runs_the_job(
    transactional_db: None, mariadb: None, tmp_path: Path
) -> None:
    database_url = current_database_url()
    env_file = tmp_path / "atrium jobs.env"
    env_file.write_text(
        f"DATABASE_URL={shlex.quote(database_url)}\nATRIUM_ENV=test\nATRIUM_READ_DOT_ENV=false\n", encoding="utf-8"
    )
    log_file = tmp_path / "atrium-jobs.log"
    render_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "DATABASE_URL": database_url, "ATRIUM_ENV": "test"}
    rendered = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "render_crontab",
            "--directory",
            str(ROOT),
            "--python",
            sys.executable,
            "--env-file",
            str(env_file),
            "--log-file",
            str(log_file),
        ],
        cwd=ROOT,
        env={**render_env, "ATRIUM_READ_DOT_ENV": "false"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    crontab = rendered.stdout

    lines = _cron_lines(crontab)
    registered = {spec.name for spec in all_jobs()}
    assert {PURGE_JOB, "accounts.sync-directory"} <= registered
    assert set(lines) == registered
    for name, (schedule, _) in lines.items():
        assert len(schedule.split()) == 5 and croniter.is_valid(schedule), f"{name}: bad schedule {schedule!r}"

    crontab_file = tmp_path / "atrium.crontab"
    crontab_file.write_text(crontab, encoding="utf-8")
    check = subprocess.run(
        [_crontab_binary(), "-n", str(crontab_file)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert check.returncode == 0, f"cron refuses the crontab:\n{check.stdout}{check.stderr}"

    old = SecurityEvent.objects.create(event_type="login", username="long-gone")
    SecurityEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=800))
    recent = SecurityEvent.objects.create(event_type="login", username="still-here")

    result = _run_like_cron(lines[PURGE_JOB][1], _crontab_variables(crontab)["PATH"], tmp_path)
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else "(no log file)"
    assert result.returncode == 0, f"{result.stderr}\n{log}"
    assert f"{PURGE_JOB}: Succeeded" in log
    run = JobRun.objects.get(job=PURGE_JOB)
    assert run.outcome == Outcome.SUCCESS and run.rows_written >= 1
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()
    assert SecurityEvent.objects.filter(pk=recent.pk).exists()
