"""Generated API tests, the NetBox way: a test class names its endpoint, model, objects and payloads, and inherits
the tests every Atrium endpoint must pass (list, read, create, change, delete, who may write, tokens' scope and
section, and another section's object as a 404).

    class TestMenuItems(ApiModelTests):
        endpoint = "/api/v1/menu-items/"
        model = MenuItem
        def finance_object(self): ...
        def hr_object(self): ...
        def create_payload(self): ...
        update_payload = {"label": "Renamed"}

Section-owned rows (`section_scoped = True`) are written by the finance editor (fiona) and are checked against
another section's object (hr); platform rows (`section_scoped = False`) are written by platform admins only.
An action the endpoint does not offer (`actions`) must answer 405.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from django.db import models
from rest_framework.test import APIClient

from .conftest import assert_problem

REASON = "Generated test CHG-0001"
ALL_ACTIONS = frozenset({"list", "retrieve", "create", "update", "delete"})


class ApiModelTests:
    endpoint: ClassVar[str]
    model: ClassVar[type[models.Model]]
    # The actions the endpoint offers; the others must answer 405.
    actions: ClassVar[frozenset[str]] = ALL_ACTIONS
    # Section-owned rows: fiona (finance editor) writes finance's; platform rows: only platform admins write.
    section_scoped: ClassVar[bool] = True
    # Who writes the finance object, and who reads it without writing (their write token is refused with 403).
    writer: ClassVar[str] = "fiona"
    # Who creates rows (platform admins only, for some endpoints); the writer when not set.
    creator: ClassVar[str] = ""
    readers_who_cannot_write: ClassVar[tuple[str, ...]] = ()
    # Signed-in users who cannot even see the finance object (404 on it; 403 when they try to create).
    outsiders: ClassVar[tuple[str, ...]] = ("frank", "hana")
    # What a create by an outsider answers (400 where the section field only offers readable sections).
    outsider_create_status: ClassVar[int] = 403
    update_payload: ClassVar[dict[str, Any]] = {}
    # A payload that must be refused with 400, and the fields the problem must name.
    invalid_payload: ClassVar[dict[str, Any]] = {}
    invalid_fields: ClassVar[set[str]] = set()

    # ---- what a concrete class provides -------------------------------------------------------------------------
    def finance_object(self) -> Any:
        raise NotImplementedError

    def hr_object(self) -> Any:
        raise NotImplementedError

    def create_payload(self) -> dict[str, Any]:
        return {}

    def rows(self) -> Any:
        """Every row of the model, whatever the current section."""
        manager = self.model._default_manager
        return manager.all_sections() if hasattr(manager, "all_sections") else manager.all()  # type: ignore[attr-defined]

    def created_row(self, response: Any) -> Any:
        return self.rows().get(pk=response.json()["id"])

    # ---- plumbing ------------------------------------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def _api(self, token_for: Callable[..., str], bearer: Callable[..., APIClient]) -> None:
        self.token_for = token_for
        self.bearer = bearer

    def client(self, username: str, **options: Any) -> APIClient:
        return self.bearer(self.token_for(username, **options))

    def writer_client(self, **options: Any) -> APIClient:
        return self.client(self.writer, scope="write", **options)

    def url(self, obj: Any) -> str:
        return f"{self.endpoint}{obj.pk}/"

    def offers(self, action: str) -> bool:
        return action in self.actions

    def ids(self, response: Any) -> set[int]:
        assert response.status_code == 200, response.content[:500]
        return {row["id"] for row in response.json()["results"]}

    @staticmethod
    def assert_history(obj: Any, kind: str, username: str) -> None:
        """`obj` has a history row of a `kind` change (+ ~ -) by `username`, with the request's reason."""
        history = getattr(type(obj), "history", None)
        if history is None:
            return
        records = history.filter(**{type(obj)._meta.pk.attname: obj.pk})
        assert records.filter(
            history_type=kind, history_change_reason=REASON, history_user__username=username
        ).exists(), list(records.values_list("history_type", "history_change_reason", "history_user__username"))

    def write(self, client: APIClient, action: str, obj: Any = None) -> Any:
        if action == "create":
            return client.post(self.endpoint, {**self.create_payload(), "reason": REASON}, format="json")
        if action == "update":
            return client.patch(self.url(obj), {**self.update_payload, "reason": REASON}, format="json")
        return client.delete(self.url(obj), {"reason": REASON}, format="json")

    # ---- reading ------------------------------------------------------------------------------------------------
    def test_list_shows_the_readable_rows(self) -> None:
        finance, hr = self.finance_object(), self.hr_object()
        seen = self.ids(self.writer_client().get(self.endpoint, {"limit": 500}))
        assert finance.pk in seen
        if self.section_scoped:
            assert hr.pk not in seen

    def test_retrieve_answers_the_object(self) -> None:
        finance = self.finance_object()
        response = self.writer_client().get(self.url(finance))
        assert response.status_code == 200, response.content[:500]
        assert response.json()["id"] == finance.pk

    def test_fields_trims_the_answer(self) -> None:
        response = self.writer_client().get(self.url(self.finance_object()), {"fields": "id"})
        assert response.status_code == 200, response.content[:500]
        assert response.json() == {"id": self.finance_object().pk}

    def test_anonymous_calls_are_401(self) -> None:
        assert_problem(APIClient().get(self.endpoint), 401)
        assert_problem(APIClient().get(self.url(self.finance_object())), 401)
        assert_problem(APIClient().post(self.endpoint, self.create_payload(), format="json"), 401)

    def test_auditor_reads_everything_and_changes_nothing(self) -> None:
        finance, hr = self.finance_object(), self.hr_object()
        client = self.client("audrey", scope="write")
        assert {finance.pk, hr.pk} <= self.ids(client.get(self.endpoint, {"limit": 500}))
        before = self.rows().count()
        for action in ("create", "update", "delete"):
            if self.offers(action):
                assert_problem(self.write(client, action, finance), 403)
        assert self.rows().count() == before

    # ---- writing ------------------------------------------------------------------------------------------------
    def test_create_writes_the_row_with_history(self) -> None:
        creator = self.creator or self.writer
        response = self.write(self.client(creator, scope="write"), "create")
        if not self.offers("create"):
            assert_problem(response, 405)
            return
        assert response.status_code == 201, response.content[:800]
        self.assert_history(self.created_row(response), "+", creator)

    def test_update_changes_the_row_with_history(self) -> None:
        finance = self.finance_object()
        response = self.write(self.writer_client(), "update", finance)
        if not self.offers("update"):
            assert_problem(response, 405)
            return
        assert response.status_code == 200, response.content[:800]
        finance.refresh_from_db()
        for name, value in self.update_payload.items():
            assert response.json()[name] == value
        self.assert_history(finance, "~", self.writer)

    def test_delete_removes_the_row_with_history(self) -> None:
        finance = self.finance_object()
        response = self.write(self.writer_client(), "delete", finance)
        if not self.offers("delete"):
            assert_problem(response, 405)
            return
        assert response.status_code == 204, response.content[:500]
        assert not self.rows().filter(pk=finance.pk).exists()
        self.assert_history(finance, "-", self.writer)

    def test_invalid_input_is_a_400_problem_naming_the_fields(self) -> None:
        if not self.offers("create") or not self.invalid_payload:
            return
        before = self.rows().count()
        response = self.writer_client().post(self.endpoint, self.invalid_payload, format="json")
        body = assert_problem(response, 400)
        assert self.invalid_fields <= {param["name"] for param in body["invalid_params"]}, body
        assert self.rows().count() == before

    # ---- who may not write ---------------------------------------------------------------------------------------
    def test_a_read_token_cannot_write(self) -> None:
        finance = self.finance_object()
        client = self.client(self.writer)  # the default scope: read
        before = self.rows().count()
        for action in ("create", "update", "delete"):
            if self.offers(action):
                assert "read scope" in assert_problem(self.write(client, action, finance), 403)["detail"]
        assert self.rows().count() == before
        assert self.rows().filter(pk=finance.pk).exists()

    def test_readers_cannot_write(self) -> None:
        finance = self.finance_object()
        before = self.rows().count()
        for username in self.readers_who_cannot_write:
            client = self.client(username, scope="write")
            assert client.get(self.url(finance)).status_code == 200
            for action in ("create", "update", "delete"):
                if self.offers(action):
                    assert_problem(self.write(client, action, finance), 403)
        assert self.rows().count() == before

    def test_outsiders_neither_see_nor_change_the_row(self) -> None:
        finance = self.finance_object()
        before = self.rows().count()
        for username in self.outsiders:
            client = self.client(username, scope="write")
            assert_problem(client.get(self.url(finance)), 404)
            assert finance.pk not in self.ids(client.get(self.endpoint, {"limit": 500}))
            if self.offers("create"):
                assert_problem(self.write(client, "create"), self.outsider_create_status)
            for action in ("update", "delete"):
                if self.offers(action):
                    assert_problem(self.write(client, action, finance), 404)
        assert self.rows().count() == before
        assert self.rows().filter(pk=finance.pk).exists()

    # ---- another section's object ------------------------------------------------------------------------------
    def test_another_sections_object_is_404_for_read_change_and_delete(self) -> None:
        if not self.section_scoped:
            return
        hr = self.hr_object()
        client = self.writer_client()
        assert_problem(client.get(self.url(hr)), 404)
        for action in ("update", "delete"):
            if self.offers(action):
                assert_problem(self.write(client, action, hr), 404)
        assert self.rows().filter(pk=hr.pk).exists()

    def test_a_finance_token_neither_sees_nor_changes_hr_rows(self) -> None:
        if not self.section_scoped:
            return
        finance, hr = self.finance_object(), self.hr_object()
        client = self.client("admin", scope="write", section="finance")
        seen = self.ids(client.get(self.endpoint, {"limit": 500}))
        assert finance.pk in seen and hr.pk not in seen
        assert_problem(client.get(self.url(hr)), 404)
        for action in ("update", "delete"):
            if self.offers(action):
                assert_problem(self.write(client, action, hr), 404)
        assert self.rows().filter(pk=hr.pk).exists()
        assert client.get(self.url(finance)).status_code == 200
