"""Data ingestion: records pushed to a push source through POST /api/v1/sources/{id}/records/, validated and written
as a sync writes them (field map, required fields, duplicate keys, batches of at most 1,000, an audit entry per
change, rejected records kept and reported), recorded as a run of `ingest.<slug>`; and the sources endpoint."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from jobs.models import JobRun, Outcome
from jobs.services import save_source
from jobs.sync_models import RejectedRecord, SourceFreshness, SourceKind, SyncChange, SyncedRecord, SyncSource
from tenants.models import Section

from .conftest import assert_problem

pytestmark = pytest.mark.django_db


def push_source(slug: str = "pushed-positions", section: str | None = "finance", **options: Any) -> SyncSource:
    values: dict[str, Any] = {
        "name": f"{slug} (pushed)",
        "kind": SourceKind.PUSH,
        "key_field": "id",
        "required_fields": ["id", "department"],
        "deletion_policy": "mark",
        "section": Section.objects.get(slug=section) if section else None,
        **options,
    }
    return save_source(SyncSource(slug=slug, **values), actor=None, reason="test source")


def records(count: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"P-{n:06d}", "department": f"D{n % 7}", "fte": 1.0, **extra} for n in range(start, start + count)]


def pushed_anything() -> bool:
    """Did any push write a record or a run? (The demo's own sources and runs are not pushes.)"""
    pushes = SyncSource.objects.filter(kind=SourceKind.PUSH)
    return (
        SyncedRecord.objects.filter(source__in=pushes).exists()
        or JobRun.objects.filter(job__startswith="ingest.").exists()
    )


def url(source: SyncSource) -> str:
    return f"/api/v1/sources/{source.pk}/records/"


@pytest.fixture
def fiona(token_for, bearer):
    return bearer(token_for("fiona", scope="write"))


# ---------------------------------------------------------------------------------------------------------------
# Pushing
# ---------------------------------------------------------------------------------------------------------------
def test_a_push_is_written_audited_and_recorded_as_a_run(fiona):
    source = push_source()
    response = fiona.post(url(source), {"records": records(3), "reason": "first load"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("received", "created", "updated", "unchanged", "rejected", "batches")} == {
        "received": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "batches": 1,
    }
    run = JobRun.objects.get(pk=body["run"])
    assert run.job == "ingest.pushed-positions" and run.section_slug == "finance" and run.outcome == Outcome.SUCCESS
    assert run.rows_read == 3 and run.rows_written == 3 and run.detail["pushed_by"] == "fiona"
    assert body["run_url"].endswith(f"/api/v1/job-runs/{run.pk}/")
    assert SyncedRecord.objects.filter(source=source).count() == 3
    assert SyncChange.objects.filter(source=source, action="+", run=run).count() == 3
    assert SourceFreshness.objects.get(source=source).last_success_at is not None

    changed = records(3)
    changed[1]["fte"] = 0.5
    again = fiona.post(url(source), {"records": changed}, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 2)
    change = SyncChange.objects.get(source=source, action="~")
    assert change.key == "P-000001" and change.changes == {"fte": [1.0, 0.5]}


def test_invalid_records_are_reported_with_index_key_and_reason_and_the_valid_ones_kept(fiona):
    source = push_source()
    batch = [
        {"id": "A-1", "department": "Payroll"},
        {"id": "A-2"},  # no department
        "not an object",
        {"id": "A-1", "department": "Duplicate"},
        {"department": "No key"},
        {"id": "A-3", "department": "Recruiting"},
    ]
    response = fiona.post(url(source), {"records": batch}, format="json")
    assert response.status_code == 207, response.content
    body = response.json()
    assert (body["received"], body["created"], body["rejected"]) == (6, 2, 4)
    assert body["rejections"] == [
        {"index": 1, "key": "A-2", "reason": "missing required field: department"},
        {"index": 2, "key": "", "reason": "not a JSON object but str"},
        {"index": 3, "key": "A-1", "reason": "duplicate key"},
        {"index": 4, "key": "", "reason": "missing required field: id"},
    ]
    assert body["rejections_truncated"] is False
    assert sorted(SyncedRecord.objects.filter(source=source).values_list("key", flat=True)) == ["A-1", "A-3"]
    assert SyncedRecord.objects.get(source=source, key="A-1").data["department"] == "Payroll"  # the first wins
    kept = RejectedRecord.objects.filter(source=source, run_id=body["run"])
    assert sorted(kept.values_list("reason", flat=True)) == sorted(r["reason"] for r in body["rejections"])
    assert JobRun.objects.get(pk=body["run"]).rows_rejected == 4


def test_the_field_map_applies_to_pushed_records(fiona):
    source = push_source(field_map={"id": "number", "department": "org.name"})
    body = fiona.post(url(source), {"records": [{"number": 7, "org": {"name": "Tax"}}]}, format="json").json()
    assert body["created"] == 1
    assert SyncedRecord.objects.get(source=source).data == {"id": 7, "department": "Tax"}


@pytest.mark.parametrize(("policy", "left"), [("mark", 3), ("delete", 2)])
def test_a_complete_push_applies_the_vanished_record_policy(fiona, policy, left):
    source = push_source(deletion_policy=policy)
    fiona.post(url(source), {"records": records(3)}, format="json")
    partial = fiona.post(url(source), {"records": records(1)}, format="json").json()
    assert partial["removed"] == 0 and SyncedRecord.objects.filter(source=source, deleted_at__isnull=True).count() == 3
    body = fiona.post(url(source), {"records": records(2), "complete": True}, format="json").json()
    assert body["removed"] == 1 and body["complete"] is True
    assert SyncedRecord.objects.filter(source=source).count() == left
    assert SyncedRecord.objects.filter(source=source, deleted_at__isnull=True).count() == 2
    assert SyncChange.objects.filter(source=source, action="-", key="P-000002").exists()


def test_an_empty_complete_push_while_rows_are_held_is_refused(fiona):
    source = push_source()
    fiona.post(url(source), {"records": records(3)}, format="json")
    assert_problem(fiona.post(url(source), {"records": [], "complete": True}, format="json"), 409)
    assert SyncedRecord.objects.filter(source=source, deleted_at__isnull=True).count() == 3


# ---------------------------------------------------------------------------------------------------------------
# Refusals: walls, scopes, bad input
# ---------------------------------------------------------------------------------------------------------------
def test_section_walls_scopes_and_roles(token_for, bearer):
    hr = push_source("hr-pushed", section="hr")
    finance = push_source("fin-pushed", section="finance")
    body = {"records": records(1)}
    finance_token = bearer(token_for("admin", section="finance", scope="write"))
    assert_problem(finance_token.post(url(hr), body, format="json"), 404)
    assert_problem(bearer(token_for("fiona", scope="write")).post(url(hr), body, format="json"), 404)
    assert_problem(bearer(token_for("fiona", scope="read")).post(url(finance), body, format="json"), 403)
    assert_problem(bearer(token_for("frank", scope="write")).post(url(finance), body, format="json"), 403)
    assert_problem(bearer(token_for("audrey", scope="write")).post(url(finance), body, format="json"), 403)
    assert not pushed_anything()
    assert finance_token.post(url(finance), body, format="json").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"records": {"id": "P-1"}},
        {"records": "P-1"},
        {},
        {"records": records(1), "complete": "perhaps"},
    ],
)
def test_a_body_that_is_not_a_list_of_records_is_a_400_and_writes_nothing(fiona, body):
    source = push_source()
    assert_problem(fiona.post(url(source), body, format="json"), 400)
    assert not pushed_anything()


def test_too_many_records_in_one_call_is_a_400_and_writes_nothing(fiona, settings):
    settings.API_INGEST_MAX_RECORDS = 5
    source = push_source()
    problem = assert_problem(fiona.post(url(source), {"records": records(6)}, format="json"), 400)
    assert "at most 5" in problem["detail"] and problem["invalid_params"][0]["code"] == "too_many_records"
    assert not pushed_anything()


def test_a_source_that_is_not_a_push_source_is_a_409(fiona, tmp_path):
    fetched = save_source(
        SyncSource(
            slug="ap",
            name="AP",
            section=Section.objects.get(slug="finance"),
            base_url=tmp_path.as_uri(),
            key_field="id",
        ),
        actor=None,
        reason="test",
    )
    problem = assert_problem(fiona.post(url(fetched), {"records": records(1)}, format="json"), 409)
    assert "not pushed" in problem["detail"]
    disabled = push_source("off", enabled=False)
    assert_problem(fiona.post(url(disabled), {"records": records(1)}, format="json"), 409)
    assert not pushed_anything()


def test_pushes_count_against_the_ingest_throttle(fiona, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "ingest": "2/min", "write": "100/min"}
    source = push_source()
    for _ in range(2):
        assert fiona.post(url(source), {"records": records(1)}, format="json").status_code == 200
    assert_problem(fiona.post(url(source), {"records": records(1)}, format="json"), 429)


# ---------------------------------------------------------------------------------------------------------------
# The sources endpoint
# ---------------------------------------------------------------------------------------------------------------
def test_sources_are_listed_by_section_and_never_answer_their_credential(token_for, bearer, tmp_path):
    push_source("fin-push", section="finance")
    push_source("hr-push", section="hr")
    save_source(
        SyncSource(
            slug="platform-feed",
            name="Platform feed",
            base_url=tmp_path.as_uri(),
            key_field="id",
            auth_type="bearer",
            credential_setting="SYNC_FEED_TOKEN",
        ),
        actor=None,
        reason="test",
    )
    fiona = bearer(token_for("fiona")).get("/api/v1/sources/", {"kind": "push"}).json()["results"]
    assert [s["slug"] for s in fiona] == ["fin-push"]
    assert fiona[0]["records_url"].endswith(f"/api/v1/sources/{fiona[0]['id']}/records/")
    everything = bearer(token_for("audrey")).get("/api/v1/sources/").json()["results"]
    assert {s["slug"] for s in everything} >= {"fin-push", "hr-push", "platform-feed"}
    feed = next(s for s in everything if s["slug"] == "platform-feed")
    assert "credential_setting" not in feed and feed["has_credential"] is True and feed["records_url"] is None
    assert "SYNC_FEED_TOKEN" not in str(everything)
    hr = SyncSource.objects.get(slug="hr-push")
    assert_problem(bearer(token_for("fiona")).get(f"/api/v1/sources/{hr.pk}/"), 404)


def test_an_editor_creates_changes_and_deletes_a_push_source_with_history(fiona):
    finance = Section.objects.get(slug="finance")
    created = fiona.post(
        "/api/v1/sources/",
        {
            "slug": "budget-lines",
            "name": "Budget lines",
            "section": finance.pk,
            "kind": "push",
            "key_field": "line",
            "reason": "Budget dashboard (CHG-1)",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    source = SyncSource.objects.get(slug="budget-lines")
    assert source.history.first().history_change_reason == "Budget dashboard (CHG-1)"
    changed = fiona.patch(f"/api/v1/sources/{source.pk}/", {"freshness_target_minutes": 1440}, format="json")
    assert changed.status_code == 200 and changed.json()["freshness_target_minutes"] == 1440
    problem = assert_problem(
        fiona.patch(f"/api/v1/sources/{source.pk}/", {"kind": "rest", "base_url": "https://x.example"}), 403
    )
    assert "platform admins" in problem["detail"]
    fiona.post(url(source), {"records": [{"line": "L1"}]}, format="json")
    assert fiona.delete(f"/api/v1/sources/{source.pk}/", {"reason": "retired"}, format="json").status_code == 204
    assert not SyncSource.objects.filter(slug="budget-lines").exists()
    assert not SyncedRecord.objects.filter(key="L1").exists()


def test_an_editor_cannot_create_a_fetched_source_or_one_in_another_section(fiona):
    hr = Section.objects.get(slug="hr")
    finance = Section.objects.get(slug="finance")
    fetched = {"slug": "x", "name": "X", "section": finance.pk, "base_url": "https://x.example", "key_field": "id"}
    assert_problem(fiona.post("/api/v1/sources/", fetched, format="json"), 403)
    other = {"slug": "y", "name": "Y", "section": hr.pk, "kind": "push", "key_field": "id"}
    assert_problem(fiona.post("/api/v1/sources/", other, format="json"), 400)  # hr is not a section fiona reads
    assert not SyncSource.objects.filter(slug__in=["x", "y"]).exists()


def test_an_invalid_source_is_a_400_problem(token_for, bearer):
    admin = bearer(token_for("admin", scope="write"))
    body = {"slug": "bad", "name": "Bad", "kind": "push", "key_field": "id", "base_url": "https://x.example"}
    problem = assert_problem(admin.post("/api/v1/sources/", body, format="json"), 400)
    assert problem["invalid_params"][0]["name"] == "base_url"


# ---------------------------------------------------------------------------------------------------------------
# Volume
# ---------------------------------------------------------------------------------------------------------------
def _push_volume(client: Any, source: SyncSource, count: int) -> dict[str, Any]:
    started = time.monotonic()
    response = client.post(url(source), {"records": records(count), "reason": "volume"}, format="json")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    body["seconds"] = time.monotonic() - started
    return body


@pytest.mark.slow
def test_ingesting_100_000_records_completes_in_batches_with_exact_counts(fiona):
    source = push_source()
    body = _push_volume(fiona, source, 100_000)
    assert body["batches"] == 100
    assert (body["received"], body["created"], body["updated"], body["unchanged"], body["rejected"]) == (
        100_000,
        100_000,
        0,
        0,
        0,
    )
    assert SyncedRecord.objects.filter(source=source).count() == 100_000
    assert SyncChange.objects.filter(source=source, run_id=body["run"]).count() == 100_000
    run = JobRun.objects.get(pk=body["run"])
    assert run.outcome == Outcome.SUCCESS and run.rows_read == 100_000 and run.rows_written == 100_000
    if connection.vendor == "sqlite":
        # About 30 s on a busy 2-core machine (MariaDB: about the same); per-row ORM work took well over 100 s.
        assert body["seconds"] < 60, body["seconds"]


@pytest.mark.mariadb
@pytest.mark.slow
def test_ingesting_on_mariadb_commits_whole_batches(mariadb, fiona):
    assert connection.vendor == "mysql"
    source = push_source()
    body = _push_volume(fiona, source, 5_000)
    assert (body["batches"], body["created"], body["rejected"]) == (5, 5_000, 0)
    changed = records(5_000)
    for record in changed[::10]:
        record["fte"] = 0.8
    again = fiona.post(url(source), {"records": changed, "complete": True}, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"], again["batches"]) == (0, 500, 4_500, 5)
    assert SyncedRecord.objects.filter(source=source).count() == 5_000
