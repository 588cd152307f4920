"""The sync framework against a real local HTTP server: every paging style, changes and their audit, deletion
policies, and a source that misbehaves (HTTP 500, a time-out, a malformed page, bad records, an empty answer).

Every sync runs through `jobs.runner.run_job("sync.<slug>")`, the path cron takes on a job server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from prometheus_client import REGISTRY
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from jobs import runner
from jobs import sync as sync_module
from jobs.metrics import collect_freshness
from jobs.models import JobRun, Outcome
from jobs.registry import all_jobs
from jobs.runner import run_job
from jobs.services import delete_source, save_source
from jobs.sync import Rejection, Sync, ensure_demo_sources, keys_checksum, register_sync, unregister_sync
from jobs.sync_models import RejectedRecord, SourceFreshness, SyncChange, SyncedRecord, SyncSource
from tenants.models import Section

pytestmark = pytest.mark.django_db

SLUG = "invoices"
JOB = f"sync.{SLUG}"


def invoice(number: int, **fields: Any) -> dict[str, Any]:
    record = {"id": f"INV-{number:03d}", "supplier": {"name": f"Supplier {number}"}, "amount": number * 10.5}
    record.update(fields)
    return record


class FakeApi:
    """An AP-platform-like JSON API: pages `records` in whatever style it is asked, and misbehaves on request."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.page_size = 3  # for next-link paging, where the client sends no size
        self.report_total = True
        self.total: int | None = None  # None: the real count
        self.checksum: str | None = None  # None: the real checksum of the keys
        self.failures: dict[int, list[Any]] = {}  # page number → what to do instead, once per request, in order

    def fail(self, page: int, *what: Any) -> None:
        self.failures[page] = list(what)

    def handler(self, request: Request) -> Response:
        start, size, page = self._window(request.args)
        pending = self.failures.get(page)
        if pending:
            what = pending[0] if len(pending) == 1 else pending.pop(0)  # the last one repeats
            if isinstance(what, int):
                return Response("upstream trouble", status=what)
            if what == "not json":
                return Response("<html>Gateway error page</html>", content_type="text/html")
            if what == "no records":
                return Response(json.dumps({"error": "maintenance"}), content_type="application/json")
        body: dict[str, Any] = {"items": self.records[start : start + size]}
        if self.report_total:
            body["total"] = len(self.records) if self.total is None else self.total
            body["checksum"] = self.checksum or keys_checksum(str(r.get("id")) for r in self.records)
        if "cursor" in request.args or not request.args:
            following = start + size
            body["next"] = f"/invoices?cursor={following}" if following < len(self.records) else None
        return Response(json.dumps(body), content_type="application/json")

    def _window(self, args: Any) -> tuple[int, int, int]:
        if "page" in args:
            size = int(args["page_size"])
            page = int(args["page"])
            return (page - 1) * size, size, page
        if "offset" in args:
            size = int(args["limit"])
            return int(args["offset"]), size, int(args["offset"]) // size + 1
        start = int(args.get("cursor", 0))
        return start, self.page_size, start // self.page_size + 1


@pytest.fixture
def api(httpserver: HTTPServer) -> FakeApi:
    fake = FakeApi([invoice(n) for n in range(1, 9)])  # 8 records: pages of 3, 3, 2
    httpserver.expect_request("/invoices").respond_with_handler(fake.handler)
    return fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The runner's backoff waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(runner, "time", SimpleNamespace(sleep=recorded.append, monotonic=time.monotonic))
    return recorded


def make_source(base_url: str, **overrides: Any) -> SyncSource:
    values: dict[str, Any] = {
        "slug": SLUG,
        "name": "Invoices",
        "base_url": base_url,
        "paging": "page_number",
        "page_size": 3,
        "records_path": "items",
        "total_path": "total",
        "checksum_path": "checksum",
        "key_field": "id",
        "field_map": {"id": "id", "supplier": "supplier.name", "amount": "amount"},
        "required_fields": ["id", "supplier"],
        "max_attempts": 3,
        "timeout_seconds": 60,
        "request_timeout_seconds": 5,
        **overrides,
    }
    return save_source(SyncSource(**values), actor=None, reason="test")


@pytest.fixture
def source(api: FakeApi, httpserver: HTTPServer) -> SyncSource:
    return make_source(httpserver.url_for("/invoices"))


def sync() -> JobRun:
    run = run_job(JOB)
    assert isinstance(run, JobRun)
    run.refresh_from_db()
    return run


def held(source: SyncSource) -> dict[str, dict[str, Any]]:
    return {r.key: r.data for r in SyncedRecord.objects.filter(source=source, deleted_at__isnull=True)}


def changes_of(run: JobRun) -> dict[str, tuple[str, dict[str, Any]]]:
    return {c.key: (c.action, c.changes) for c in SyncChange.objects.filter(run=run)}


# -----------------------------------------------------------------------------------------------------------------
# The happy path, in every paging style
# -----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("paging", "requests"), [("page_number", 3), ("offset_limit", 3), ("next_link", 3), ("none", 1)]
)
def test_every_paging_style_reads_all_pages_into_local_rows(
    api: FakeApi, httpserver: HTTPServer, paging: str, requests: int
) -> None:
    if paging == "none":
        api.page_size = 100  # the whole list in one answer
    source = make_source(httpserver.url_for("/invoices"), paging=paging)

    run = sync()

    assert run.outcome == Outcome.SUCCESS, run.message
    assert len(httpserver.log) == requests
    rows = held(source)
    assert len(rows) == 8
    assert rows["INV-003"] == {"id": "INV-003", "supplier": "Supplier 3", "amount": 31.5}
    assert (run.rows_read, run.rows_written, run.rows_rejected) == (8, 8, 0)
    assert run.checks["row_count"]["ok"] and run.checks["checksum"]["ok"]
    assert run.checks["row_count"]["against"] == "source"
    assert run.message.startswith("8 read, 8 created, 0 changed, 0 marked deleted, 0 rejected")
    assert {action for action, _ in changes_of(run).values()} == {"+"}
    freshness = SourceFreshness.objects.get(source=source)
    assert freshness.last_success_at is not None and freshness.last_row_count == 8 and not freshness.is_stale


def test_a_second_run_records_what_was_created_changed_and_removed_field_by_field(
    api: FakeApi, source: SyncSource
) -> None:
    sync()
    api.records[1]["amount"] = 999.99  # INV-002 changed
    del api.records[4]  # INV-005 gone
    api.records.append(invoice(9))  # INV-009 new

    run = sync()

    assert run.outcome == Outcome.SUCCESS, run.message
    audit = changes_of(run)
    assert set(audit) == {"INV-002", "INV-005", "INV-009"}  # unchanged rows leave no audit entry
    assert audit["INV-002"] == ("~", {"amount": [21.0, 999.99]})
    assert audit["INV-009"] == (
        "+",
        {"amount": [None, 94.5], "id": [None, "INV-009"], "supplier": [None, "Supplier 9"]},
    )
    action, removed = audit["INV-005"]
    assert action == "-" and removed["supplier"] == ["Supplier 5", None] and removed["amount"] == [52.5, None]
    assert removed["deleted_at"][0] is None and removed["deleted_at"][1].startswith(str(timezone.now().year))
    assert run.rows_written == 3  # unchanged rows are neither written nor audited
    assert "1 created, 1 changed, 1 marked deleted" in run.message
    assert held(source)["INV-002"]["amount"] == 999.99 and "INV-005" not in held(source)


@pytest.mark.parametrize("policy", ["delete", "mark"])
def test_vanished_records_are_deleted_or_marked_as_the_policy_says_and_marks_are_undone_on_return(
    api: FakeApi, httpserver: HTTPServer, policy: str
) -> None:
    source = make_source(httpserver.url_for("/invoices"), deletion_policy=policy)
    sync()
    gone = api.records.pop(0)

    run = sync()

    row = SyncedRecord.objects.filter(source=source, key="INV-001").first()
    if policy == "delete":
        assert row is None
        assert "1 deleted" in run.message
    else:
        assert row is not None and row.deleted_at is not None and row.data["supplier"] == "Supplier 1"
        assert "1 marked deleted" in run.message
    assert changes_of(run)["INV-001"][0] == "-"

    api.records.insert(0, gone)
    back = sync()

    assert "INV-001" in held(source)
    action, changes = changes_of(back)["INV-001"]
    assert action == "+"
    if policy == "mark":
        assert changes["deleted_at"][1] is None  # the audit says it was revived


# -----------------------------------------------------------------------------------------------------------------
# A source that misbehaves
# -----------------------------------------------------------------------------------------------------------------
def test_http_500_on_page_2_is_retried_as_configured_then_fails_with_nothing_written(
    api: FakeApi, source: SyncSource, httpserver: HTTPServer, waits: list[float]
) -> None:
    sync()
    first_success = SourceFreshness.objects.get(source=source).last_success_at
    before = held(source)
    api.records[0]["amount"] = 1.0  # would be a change, if anything were written
    api.fail(2, 500)
    httpserver.clear_log()

    run = sync()

    assert run.outcome == Outcome.FAILED
    assert run.attempts == 3 and len(waits) == 2  # max_attempts = 3: two retries, with backoff
    assert [r.args.get("page") for r, _ in httpserver.log] == ["1", "2"] * 3
    assert "HTTP 500" in run.message and "page 2" in run.message and "retries exhausted" in run.message
    assert held(source) == before
    assert not SyncChange.objects.filter(run=run).exists()
    freshness = SourceFreshness.objects.get(source=source)
    assert freshness.last_success_at == first_success  # freshness moves only on success
    assert freshness.last_attempt_at is not None and freshness.last_attempt_at > first_success


def test_a_source_that_recovers_on_the_retry_succeeds_and_counts_only_the_final_attempt(
    api: FakeApi, source: SyncSource, waits: list[float]
) -> None:
    api.fail(2, 503, "ok")

    run = sync()

    assert run.outcome == Outcome.SUCCESS and run.attempts == 2
    assert (run.rows_read, run.rows_written) == (8, 8)
    assert len(held(source)) == 8


def test_a_source_that_answers_too_slowly_is_retried_then_fails_and_keeps_the_rows(waits: list[float]) -> None:
    release = threading.Event()
    seen: list[float] = []
    records = [invoice(1), invoice(2)]

    def slow(request: Request) -> Response:
        seen.append(time.monotonic())
        if request.args.get("slow"):
            release.wait(5)  # past the client's read time-out; released when the test ends
        return Response(json.dumps({"items": records, "total": 2}), content_type="application/json")

    server = HTTPServer(threaded=True)  # the slow answers must not queue the retries behind them
    server.expect_request("/invoices").respond_with_handler(slow)
    server.start()
    try:
        source = make_source(server.url_for("/invoices"), paging="none", max_attempts=2, request_timeout_seconds=0.3)
        assert sync().outcome == Outcome.SUCCESS
        source.base_url = server.url_for("/invoices") + "?slow=1"
        save_source(source, actor=None, reason="the source slows down")

        run = sync()
    finally:
        release.set()
        server.stop()

    assert run.outcome == Outcome.FAILED and run.attempts == 2
    assert "did not answer" in run.message and "0.3 s" in run.message and "transient" in run.message
    assert len(seen) == 3  # one good run, then two slow attempts
    assert set(held(source)) == {"INV-001", "INV-002"}


@pytest.mark.parametrize(("misbehaviour", "says"), [("not json", "is not JSON"), ("no records", "has no “items”")])
def test_a_malformed_page_fails_at_once_and_writes_nothing(
    api: FakeApi, source: SyncSource, waits: list[float], misbehaviour: str, says: str
) -> None:
    sync()
    before = held(source)
    api.records.append(invoice(9))  # page 1 and 2 are fine; page 3 (with the new record) is broken
    api.fail(3, misbehaviour)

    run = sync()

    assert run.outcome == Outcome.FAILED and run.attempts == 1 and waits == []
    assert says in run.message and "not retried" in run.message
    assert held(source) == before


@pytest.mark.parametrize(
    ("status", "says"), [(404, "HTTP 404 for page 1 of invoices"), (401, "the source refused the credentials")]
)
def test_a_client_error_is_not_retried(
    api: FakeApi, source: SyncSource, waits: list[float], httpserver: HTTPServer, status: int, says: str
) -> None:
    api.fail(1, status)

    run = sync()

    assert run.outcome == Outcome.FAILED and run.attempts == 1 and len(httpserver.log) == 1
    assert says in run.message and "not retried" in run.message


def test_a_record_missing_a_required_field_is_rejected_with_the_reason_and_the_others_are_kept(
    api: FakeApi, source: SyncSource
) -> None:
    api.records[2] = {"id": "INV-003", "amount": 5}  # no supplier

    run = sync()

    assert run.outcome == Outcome.SUCCESS
    assert (run.rows_read, run.rows_written, run.rows_rejected) == (8, 7, 1)
    rejected = RejectedRecord.objects.get(run=run)
    assert (rejected.key, rejected.reason) == ("INV-003", "missing required field: supplier")
    assert rejected.record == {"id": "INV-003", "amount": 5}
    assert len(held(source)) == 7 and "INV-003" not in held(source)
    # The source says it has 8: the check shows the local copy is short by the rejected record.
    assert run.checks["row_count"] == {"ok": False, "held": 7, "expected": 8, "against": "source", "rejected": 1}
    assert "CHECK FAILED: row_count, checksum" in run.message


def test_a_rejected_record_that_was_held_before_is_not_deleted(api: FakeApi, source: SyncSource) -> None:
    sync()
    api.records[2] = {"id": "INV-003", "amount": 5}

    run = sync()

    assert "INV-003" in held(source)  # the source still has it; it is only unusable this time
    assert "INV-003" not in changes_of(run)


def test_a_duplicate_key_is_rejected_and_the_first_record_wins(api: FakeApi, source: SyncSource) -> None:
    api.records.append(invoice(4, amount=0.01))

    run = sync()

    rejected = RejectedRecord.objects.get(run=run)
    assert (rejected.key, rejected.reason) == ("INV-004", "duplicate key")
    assert held(source)["INV-004"]["amount"] == 42.0
    assert run.rows_rejected == 1


def test_an_empty_answer_after_a_full_one_is_refused_and_the_rows_stay(
    api: FakeApi, source: SyncSource, waits: list[float]
) -> None:
    sync()
    api.records = []
    api.report_total = False  # an empty list, and no total that says "really empty"

    run = sync()

    assert run.outcome == Outcome.FAILED
    assert "returned no records, but 8 rows are held locally: refusing to mark them deleted" in run.message
    assert len(held(source)) == 8
    assert not SyncChange.objects.filter(run=run).exists()


def test_an_empty_answer_is_accepted_when_the_source_says_its_total_is_zero(api: FakeApi, source: SyncSource) -> None:
    sync()
    api.records = []

    run = sync()

    assert run.outcome == Outcome.SUCCESS, run.message
    assert held(source) == {} and "8 marked deleted" in run.message
    assert run.checks["row_count"]["ok"]


def test_all_records_rejected_is_refused_too(api: FakeApi, source: SyncSource) -> None:
    sync()
    for record in api.records:
        record.pop("supplier")  # the source renamed a field: every record fails validation

    run = sync()

    assert run.outcome == Outcome.FAILED and "All 8 records from the source were rejected" in run.message
    assert len(held(source)) == 8
    assert RejectedRecord.objects.filter(run=run).count() == 8  # kept, so the owners can see why


# -----------------------------------------------------------------------------------------------------------------
# Batches, checks, freshness
# -----------------------------------------------------------------------------------------------------------------
def test_rows_are_written_in_batches_each_committed_whole(
    api: FakeApi, source: SyncSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "BATCH_SIZE", 3)
    batches: list[int] = []
    original = Sync.write_batch

    def third_batch_fails(self: Sync, batch: Any, run: JobRun) -> tuple[int, int]:
        batches.append(len(batch))
        if len(batches) == 3:
            SyncedRecord.objects.create(  # written inside the batch's transaction, then rolled back with it
                source=source, key="HALF", data={}, checksum="", first_seen=timezone.now(), updated_at=timezone.now()
            )
            raise RuntimeError("the database went away")
        return original(self, batch, run)

    monkeypatch.setattr(Sync, "write_batch", third_batch_fails)

    run = sync()

    assert batches == [3, 3, 2]
    assert run.outcome == Outcome.FAILED and "the database went away" in run.message
    assert sorted(held(source)) == [f"INV-00{n}" for n in range(1, 7)]  # batches 1 and 2, whole; nothing of 3
    assert SyncChange.objects.filter(run=run).count() == 6  # the audit went with its rows


def test_a_checksum_that_disagrees_with_the_source_is_recorded_on_the_run(api: FakeApi, source: SyncSource) -> None:
    api.checksum = "0" * 64

    run = sync()

    assert run.outcome == Outcome.SUCCESS  # the data is written as sent; the check tells the operator
    assert run.checks["row_count"]["ok"] is True
    assert run.checks["checksum"]["ok"] is False and run.checks["checksum"]["expected"] == "0" * 64
    assert run.message.endswith("CHECK FAILED: checksum")


def test_freshness_is_exported_as_metrics(api: FakeApi, source: SyncSource) -> None:
    sync()
    collect_freshness()
    assert REGISTRY.get_sample_value("atrium_sync_stale", {"source": SLUG}) == 0
    last = REGISTRY.get_sample_value("atrium_sync_last_success_timestamp_seconds", {"source": SLUG})
    assert last == pytest.approx(time.time(), abs=60)

    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(days=1))
    collect_freshness()
    assert REGISTRY.get_sample_value("atrium_sync_stale", {"source": SLUG}) == 1


def test_stale_data_alerts_once_per_episode_and_again_after_recovery(
    api: FakeApi, httpserver: HTTPServer, mailoutbox: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    finance = Section.objects.create(slug="finance", name="Finance", support_email="finance-portal@example.com")
    source = make_source(httpserver.url_for("/invoices"), section=finance, freshness_target_minutes=60)
    sync()
    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(hours=2))

    with caplog.at_level(logging.CRITICAL, logger="atrium.jobs"):
        first = run_job("jobs.check-freshness")
        second = run_job("jobs.check-freshness")

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["finance-portal@example.com"] and "Invoices" in mailoutbox[0].subject
    alerts = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(alerts) == 1 and alerts[0].source == SLUG and alerts[0].section == "finance"
    assert isinstance(first, JobRun) and "alerted: invoices" in first.message
    assert isinstance(second, JobRun) and "1 stale" in second.message and "alerted" not in second.message
    state = SourceFreshness.objects.get(source=source)
    assert state.stale_since is not None and state.stale_alerted_at is not None

    sync()  # fresh again: the episode is over
    state.refresh_from_db()
    assert state.stale_since is None and state.stale_alerted_at is None
    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(hours=3))
    run_job("jobs.check-freshness")

    assert len(mailoutbox) == 2


def test_a_platform_source_alerts_the_platform_addresses(
    api: FakeApi, source: SyncSource, mailoutbox: list[Any], settings: Any
) -> None:
    settings.SECURITY_ALERT_EMAILS = ["platform-ops@example.com"]
    sync()
    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(days=2))

    run_job("jobs.check-freshness")

    assert [m.to for m in mailoutbox] == [["platform-ops@example.com"]]


# -----------------------------------------------------------------------------------------------------------------
# Credentials
# -----------------------------------------------------------------------------------------------------------------
def test_a_bearer_token_comes_from_the_named_environment_variable(
    api: FakeApi, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_TEST_AP_TOKEN", "s3cret-token")
    make_source(httpserver.url_for("/invoices"), auth_type="bearer", credential_setting="SYNC_TEST_AP_TOKEN")

    run = sync()

    assert run.outcome == Outcome.SUCCESS
    assert {r.headers.get("Authorization") for r, _ in httpserver.log} == {"Bearer s3cret-token"}
    assert "s3cret" not in run.message and "s3cret" not in json.dumps(run.detail)


def test_a_missing_credential_fails_clearly_without_calling_the_source(
    api: FakeApi, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNC_TEST_AP_TOKEN", raising=False)
    make_source(httpserver.url_for("/invoices"), auth_type="bearer", credential_setting="SYNC_TEST_AP_TOKEN")

    run = sync()

    assert run.outcome == Outcome.FAILED and run.attempts == 1
    assert "SYNC_TEST_AP_TOKEN is not set on this job server" in run.message
    assert httpserver.log == []


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "s3cret-token-pasted-here"])
def test_only_sync_variables_can_be_credentials(api: FakeApi, httpserver: HTTPServer, name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        make_source(httpserver.url_for("/invoices"), auth_type="bearer", credential_setting=name)
    assert "SYNC_" in str(refused.value.message_dict["credential_setting"])


def test_file_sources_are_refused_outside_dev_and_test(settings: Any) -> None:
    settings.ATRIUM_ENV = "prod"
    with pytest.raises(ValidationError) as refused:
        make_source(sync_module.demo_source_directory().as_uri())
    assert "dev and test only" in str(refused.value.message_dict["base_url"])


# -----------------------------------------------------------------------------------------------------------------
# Jobs, code syncs, the demo source
# -----------------------------------------------------------------------------------------------------------------
def test_each_enabled_source_is_a_job_with_its_schedule_and_retry_policy(api: FakeApi, httpserver: HTTPServer) -> None:
    finance = Section.objects.create(slug="finance", name="Finance")
    make_source(httpserver.url_for("/invoices"), section=finance, schedule="7 * * * *", max_attempts=5)
    make_source(httpserver.url_for("/invoices"), slug="paused", enabled=False)

    jobs = {spec.name: spec for spec in all_jobs()}

    assert "sync.paused" not in jobs
    spec = jobs[JOB]
    assert (spec.schedule, spec.section, spec.timeout, spec.retry.attempts) == ("7 * * * *", "finance", 60, 5)
    assert "jobs.check-freshness" in jobs


class RoundedInvoiceSync(Sync):
    """A code sync: the same local rows, its own rule (amounts in whole cents; no negative amounts)."""

    def validate(self, record: Any) -> dict[str, Any] | Rejection:
        if record.get("amount", 0) < 0:
            return Rejection("negative amount (credit notes come from another source)", record.get("id", ""))
        return {"id": record["id"], "cents": round(record["amount"] * 100)}

    def key(self, row: dict[str, Any]) -> str:
        return str(row["id"])


@pytest.fixture
def code_sync() -> Iterator[str]:
    register_sync("tests.rounded-invoices", RoundedInvoiceSync)
    yield "tests.rounded-invoices"
    unregister_sync("tests.rounded-invoices")


def test_a_code_sync_subclass_applies_its_own_validation(api: FakeApi, httpserver: HTTPServer, code_sync: str) -> None:
    api.records[0]["amount"] = -5
    source = make_source(httpserver.url_for("/invoices"), kind="code", code_name=code_sync, field_map={})

    run = sync()

    assert run.outcome == Outcome.SUCCESS, run.message
    assert held(source)["INV-002"] == {"id": "INV-002", "cents": 2100}
    assert RejectedRecord.objects.get(run=run).reason.startswith("negative amount")


def test_an_unregistered_code_sync_is_a_validation_error(api: FakeApi, httpserver: HTTPServer) -> None:
    with pytest.raises(ValidationError) as refused:
        make_source(httpserver.url_for("/invoices"), kind="code", code_name="nobody.registered-this")
    assert "No sync is registered" in str(refused.value.message_dict["code_name"])


def test_the_demo_source_loads_the_ap_invoices_with_passing_checks(demo: None) -> None:
    # load_demo (the `demo` fixture) created it; loading again changes nothing
    assert ensure_demo_sources() == ["ap-invoices: unchanged"]
    source = SyncSource.objects.get(slug="ap-invoices")
    assert source.section is not None and source.section.slug == "finance"

    run = run_job("sync.ap-invoices")

    assert isinstance(run, JobRun) and run.outcome == Outcome.SUCCESS, getattr(run, "message", run)
    assert run.section_slug == "finance" and run.rows_written == 40
    assert run.checks["row_count"]["ok"] and run.checks["checksum"]["ok"]
    assert run.checks["checksum"]["against"] == "source"
    record = SyncedRecord.objects.get(source=source, key="INV-2026-04101")
    assert record.data["supplier"] == "Nordwind Logistics GmbH" and record.data["currency"] == "EUR"


def test_deleting_a_source_removes_its_rows_and_keeps_the_history(api: FakeApi, source: SyncSource) -> None:
    sync()
    delete_source(source, actor=None, reason="the AP platform was retired")

    assert not SyncedRecord.objects.exists() and not SourceFreshness.objects.exists()
    assert SyncSource.history.filter(slug=SLUG, history_type="-").get().history_change_reason == (
        "the AP platform was retired"
    )


# -----------------------------------------------------------------------------------------------------------------
# The admin
# -----------------------------------------------------------------------------------------------------------------
def admin_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "AP invoices",
        "slug": "ap",
        "description": "",
        "section": "",
        "enabled": "on",
        "kind": "rest",
        "code_name": "",
        "base_url": "https://ap.example.com/api/invoices",
        "auth_type": "bearer",
        "credential_setting": "SYNC_AP_TOKEN",
        "auth_header": "X-API-Key",
        "paging": "page_number",
        "page_size": "500",
        "page_param": "",
        "size_param": "",
        "next_path": "next",
        "records_path": "data.items",
        "total_path": "meta.total",
        "checksum_path": "",
        "key_field": "invoice_number",
        "field_map": json.dumps({"invoice_number": "number", "supplier": "supplier.name"}),
        "required_fields": json.dumps(["invoice_number"]),
        "deletion_policy": "mark",
        "schedule": "*/15 * * * *",
        "timeout_seconds": "600",
        "max_attempts": "3",
        "request_timeout_seconds": "30",
        "freshness_target_minutes": "60",
        "change_reason": "New source for the finance portal",
    }
    data.update(overrides)
    return data


def test_adding_a_source_in_the_admin_needs_a_reason_and_records_it(demo: None, sign_in: Any) -> None:
    admin = sign_in("admin")

    missing_reason = admin.post("/admin/jobs/syncsource/add/", admin_form(change_reason=""))
    assert missing_reason.status_code == 200 and not SyncSource.objects.filter(slug="ap").exists()
    assert "This field is required" in missing_reason.content.decode()

    added = admin.post("/admin/jobs/syncsource/add/", admin_form())
    assert added.status_code == 302
    source = SyncSource.objects.get(slug="ap")
    entry = source.history.get()
    assert entry.history_change_reason == "New source for the finance portal"
    assert entry.history_user is not None and entry.history_user.username == "admin"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("schedule", "every 15 minutes", "is not a cron schedule"),
        ("base_url", "ftp://ap.example.com/export", "Enter an http:// or https:// address"),
        ("base_url", "https://user:pw@ap.example.com/api", "Do not put credentials in the address"),
        ("field_map", json.dumps(["number", "supplier"]), "Enter a JSON object"),
        ("field_map", "{not json", "Enter a valid JSON"),
        ("required_fields", json.dumps(["invoice_number", "amount"]), "Not in the field map: amount"),
        ("credential_setting", "hunter2", "never the secret itself"),
    ],
)
def test_invalid_settings_are_form_errors_and_save_nothing(
    demo: None, sign_in: Any, field: str, value: str, error: str
) -> None:
    response = sign_in("admin").post("/admin/jobs/syncsource/add/", admin_form(**{field: value}))

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not SyncSource.objects.filter(slug="ap").exists()


def test_a_section_editor_tunes_their_source_but_cannot_add_one_or_change_its_address(demo: None, sign_in: Any) -> None:
    ensure_demo_sources()
    source = SyncSource.objects.get(slug="ap-invoices")
    fiona = sign_in("fiona")

    assert fiona.get("/admin/jobs/syncsource/add/").status_code == 403
    form = fiona.get(f"/admin/jobs/syncsource/{source.pk}/change/").content.decode()
    assert 'name="freshness_target_minutes"' in form and 'name="base_url"' not in form
    assert sign_in("hana").get(f"/admin/jobs/syncsource/{source.pk}/change/").status_code == 404


def test_a_problem_with_a_field_the_editor_cannot_change_is_shown_not_a_crash(
    demo: None, sign_in: Any, settings: Any
) -> None:
    ensure_demo_sources()
    source = SyncSource.objects.get(slug="ap-invoices")
    settings.ATRIUM_ENV = "uat"  # the demo's file:// address is no longer allowed, and fiona cannot change it

    response = sign_in("fiona").post(
        f"/admin/jobs/syncsource/{source.pk}/change/",
        admin_form(name=source.name, freshness_target_minutes="30", change_reason="tighter target"),
    )

    assert response.status_code == 200
    assert "Base URL: file:// sources are for dev and test only" in response.content.decode()
    source.refresh_from_db()
    assert source.freshness_target_minutes == 60


def test_the_jobs_page_shows_the_sync_fresh_then_stale_to_the_section_s_editor(demo: None, sign_in: Any) -> None:
    ensure_demo_sources()
    run_job("sync.ap-invoices")
    fiona = sign_in("fiona")

    fresh = fiona.get("/jobs/sync.ap-invoices/").content.decode()
    assert "Data is fresh" in fresh and "40 read, 40 created" in fresh and "checks passed" in fresh

    source = SyncSource.objects.get(slug="ap-invoices")
    SourceFreshness.objects.filter(source=source).update(last_success_at=timezone.now() - timedelta(hours=5))
    listing = fiona.get("/jobs/").content.decode()
    assert "sync.ap-invoices" in listing and "data-stale" in listing


def test_the_read_only_admin_pages_list_sync_data_within_the_user_s_sections(
    demo: None, sign_in: Any, api: FakeApi, source: SyncSource
) -> None:
    ensure_demo_sources()
    run_job("sync.ap-invoices")
    sync()  # the platform-owned test source
    pages = ["syncsource", "syncedrecord", "syncchange", "sourcefreshness", "jobrun"]

    admin = sign_in("admin")
    for page in [*pages, "rejectedrecord", "joblease"]:
        assert admin.get(f"/admin/jobs/{page}/").status_code == 200, page
    assert "INV-001" in admin.get("/admin/jobs/syncedrecord/").content.decode()

    fiona = sign_in("fiona")
    records = fiona.get("/admin/jobs/syncedrecord/?q=INV").content.decode()
    assert "INV-2026-04101" in records and "INV-001" not in records  # finance's data only
    sources = fiona.get("/admin/jobs/syncsource/").content.decode()
    assert "AP platform invoices" in sources and ">Invoices<" not in sources
    runs = fiona.get("/admin/jobs/jobrun/").content.decode()
    assert "sync.ap-invoices" in runs and f"sync.{SLUG}" not in runs
    assert fiona.post(f"/admin/jobs/syncedrecord/{SyncedRecord.objects.first().pk}/delete/").status_code in (403, 404)
    assert fiona.get("/admin/jobs/joblease/").status_code == 403
