#!/usr/bin/env python
"""Helper script for the subprocess job tests: `manage.py run_job`, with the test-only jobs registered.

    run_test_job.py run NAME                  # exactly what `manage.py run_job NAME` does (same exit status)
    run_test_job.py race NAME ROUNDS INTERVAL # `jobs.leases.acquire` once per round, one JSON line per round

It sets Django up as manage.py does (platform/ and the repository on sys.path, DJANGO_SETTINGS_MODULE), registers
the jobs of tests/jobs/testjobs.py, and honours two variables the tests set:

- `ATRIUM_TEST_GRACE_SECONDS`: replaces `jobs.leases.GRACE_SECONDS` (60 s), so that a killed runner's lease expires
  within seconds and the takeover goes through the real expiry path (monkeypatching cannot reach another process);
- `ATRIUM_TEST_GO_FILE`: once connected to the database, print "ready" and wait until that file exists, then start
  at the wall-clock time written in it. Several helpers released by one file race at the same moment.

In `race` mode round N starts at go + N * INTERVAL; the winner gives the lease back at 0.6 * INTERVAL into the
round, so every round is a fresh race for a free lease.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def set_up_django() -> None:
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(ROOT / "platform"))
    sys.path.insert(1, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atrium.settings")
    import django

    django.setup()
    grace = os.environ.get("ATRIUM_TEST_GRACE_SECONDS")
    if grace:
        import jobs.leases

        jobs.leases.GRACE_SECONDS = int(grace)
    from tests.jobs.testjobs import register_test_jobs

    register_test_jobs()


def sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def wait_for_go() -> float:
    """Say "ready" and wait for the go file (if one is set); return the wall-clock time to start at."""
    go = os.environ.get("ATRIUM_TEST_GO_FILE")
    if not go:
        return time.time()
    from django.db import connection

    connection.ensure_connection()
    print("ready", flush=True)
    path = Path(go)
    deadline = time.monotonic() + 120
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"the go file {path} never appeared")
        time.sleep(0.005)
    start_at = float(path.read_text(encoding="utf-8"))
    sleep_until(start_at)
    return start_at


def run(name: str) -> None:
    from django.core.management import execute_from_command_line

    wait_for_go()
    execute_from_command_line([str(ROOT / "manage.py"), "run_job", name])


def race(name: str, rounds: int, interval: float) -> None:
    from jobs.leases import Held, acquire, release

    start = wait_for_go()
    for number in range(rounds):
        sleep_until(start + number * interval)
        began = time.time()
        result = acquire(name, 30)
        ended = time.time()
        granted = not isinstance(result, Held)
        line = {"round": number, "granted": granted, "began": began, "ended": ended, "holder": result.holder}
        print(json.dumps(line), flush=True)
        if granted:
            sleep_until(start + (number + 0.6) * interval)
            release(result)  # type: ignore[arg-type]


def main(argv: list[str]) -> None:
    set_up_django()
    if len(argv) == 2 and argv[0] == "run":
        run(argv[1])
    elif len(argv) == 4 and argv[0] == "race":
        race(argv[1], int(argv[2]), float(argv[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
