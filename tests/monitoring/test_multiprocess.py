"""Under gunicorn, /metrics adds up all the workers of the instance (prometheus_client's multiprocess mode), also
those that have exited since, and values computed at scrape time come from the process that renders, never from
another worker's leftovers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: prometheus_client reads PROMETHEUS_MULTIPROC_DIR when it is first imported.
SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys
    import django
    django.setup()
    from prometheus_client import generate_latest
    from jobs.metrics import record_source
    from monitoring.exposition import process_registry
    from monitoring.metrics import record_request

    def worker(n):
        for _ in range(n):
            record_request("finance", "GET", 200, 0.05)
        record_source("ap-invoices", None, stale=True)  # a stale gauge left behind by another worker

    context = multiprocessing.get_context("fork")
    for n in (2, 3):  # two workers that serve requests and exit, as gunicorn recycles them
        process = context.Process(target=worker, args=(n,))
        process.start()
        process.join()
        assert process.exitcode == 0
    record_request("finance", "GET", 500, 0.2)  # the worker that answers the scrape
    record_source("ap-invoices", None, stale=False)
    sys.stdout.write(generate_latest(process_registry()).decode())
    """
)


def test_the_scrape_adds_up_every_worker_of_the_instance(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "DJANGO_SETTINGS_MODULE": "atrium.settings",
        "ATRIUM_ENV": "test",
        "ATRIUM_READ_DOT_ENV": "false",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
    }
    env.pop("DATABASE_URL", None)  # no database needed: only the in-memory metrics are rendered
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    samples = [s for family in text_string_to_metric_families(result.stdout) for s in family.samples]

    def value(name: str, **labels: str) -> float:
        return sum(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    assert value("atrium_http_requests_total", section="finance", status_class="2xx") == 5
    assert value("atrium_http_requests_total", section="finance", status_class="5xx") == 1
    assert value("atrium_http_request_duration_seconds_count", section="finance") == 6
    stale = [s for s in samples if s.name == "atrium_sync_stale"]
    assert [(s.labels, s.value) for s in stale] == [({"source": "ap-invoices"}, 0.0)]  # no per-pid leftovers
    assert any(s.name == "process_resident_memory_bytes" for s in samples)
    assert list(directory.glob("counter_*.db"))  # the workers' files are where gunicorn's hook expects them
