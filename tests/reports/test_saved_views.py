"""Saved views: per user, applied to the table and the exports, deletable by their owner only; walls answer 404."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from reports.models import SavedView

pytestmark = pytest.mark.django_db


def _view(**overrides: Any) -> dict[str, str]:
    data = {
        "name": "Acme, biggest first",
        "search": "",
        "filters": '{"supplier": "a"}',
        "columns": "amount,supplier,invoice_number",
        "sort": "-amount",
    }
    data.update(overrides)
    return data


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_save_and_apply_a_view(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    report = catalog["finance_report"]
    client = sign_in("frank")
    response = client.post(f"/reports/{report.pk}/views/", _view())
    assert response.status_code == 302
    view = SavedView.objects.get(user__username="frank", report=report)
    assert response["Location"] == f"/reports/{report.pk}/?view={view.pk}"
    assert (view.columns, view.sort, view.filters) == (
        ["amount", "supplier", "invoice_number"],
        ["-amount"],
        {"supplier": "a"},
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "View: Acme, biggest first" in html
    assert f"/reports/{report.pk}/data/?view={view.pk}" in html
    assert f"/reports/{report.pk}/export.csv?view={view.pk}" in html
    headers = [c.name for c in page.context["columns"]]
    assert headers == ["amount", "supplier", "invoice_number"]  # the view's column order
    assert '"order": [[0, "desc"]]' in page.context["view_state"]

    # The table endpoint and the export take the view's column order.
    data = client.get(f"/reports/{report.pk}/data/?view={view.pk}&draw=1&start=0&length=5").json()
    assert list(data["data"][0]) == ["amount", "supplier", "invoice_number"]
    rows = _csv(client.get(f"/reports/{report.pk}/export.csv?view={view.pk}&columns[1][search][value]=a"))
    assert rows[0] == ["Amount", "Supplier", "Invoice"]
    assert len(rows) > 1


def test_same_name_replaces_and_names_are_unique_per_user(
    catalog: dict[str, Any], sign_in: Callable[[str], Client]
) -> None:
    report = catalog["finance_report"]
    client = sign_in("frank")
    client.post(f"/reports/{report.pk}/views/", _view())
    client.post(f"/reports/{report.pk}/views/", _view(sort="supplier"))
    views = SavedView.objects.filter(user__username="frank", report=report)
    assert [v.sort for v in views] == [["supplier"]]
    sign_in("fiona").post(f"/reports/{report.pk}/views/", _view())
    assert SavedView.objects.filter(report=report).count() == 2  # same name, another user: their own
    frank_view = views.get()
    with pytest.raises(IntegrityError):
        SavedView.objects.create(user=frank_view.user, report=report, name=frank_view.name)


def test_another_users_view_is_404_everywhere(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    report = catalog["finance_report"]
    sign_in("fiona").post(f"/reports/{report.pk}/views/", _view())
    theirs = SavedView.objects.get(user__username="fiona")
    frank = sign_in("frank")
    assert frank.get(f"/reports/{report.pk}/?view={theirs.pk}").status_code == 404
    assert frank.get(f"/reports/{report.pk}/data/?view={theirs.pk}&draw=1").status_code == 404
    assert frank.get(f"/reports/{report.pk}/export.csv?view={theirs.pk}").status_code == 404
    assert frank.post(f"/reports/{report.pk}/views/{theirs.pk}/delete/").status_code == 404
    assert frank.get(f"/reports/{report.pk}/?view=abc").status_code == 404
    assert SavedView.objects.filter(pk=theirs.pk).exists()
    assert "Acme, biggest first" not in frank.get(f"/reports/{report.pk}/").content.decode()


def test_delete_own_view(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    report = catalog["finance_report"]
    client = sign_in("frank")
    client.post(f"/reports/{report.pk}/views/", _view())
    view = SavedView.objects.get(user__username="frank")
    assert client.get(f"/reports/{report.pk}/views/{view.pk}/delete/").status_code == 405
    response = client.post(f"/reports/{report.pk}/views/{view.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_section_walls_on_save_view(catalog: dict[str, Any], sign_in: Callable[[str], Client]) -> None:
    hr_report = catalog["hr_report"]
    finance_report = catalog["finance_report"]
    assert sign_in("frank").post(f"/reports/{hr_report.pk}/views/", _view()).status_code == 404
    hana = sign_in("hana")
    assert hana.post(f"/reports/{finance_report.pk}/views/", _view()).status_code == 404
    # A view saved on one report does not apply to another (even the owner's own id).
    sign_in("frank").post(f"/reports/{finance_report.pk}/views/", _view())
    view = SavedView.objects.get(user__username="frank")
    hana.post(f"/reports/{hr_report.pk}/views/", _view(filters="", columns="department", sort=""))
    assert hana.get(f"/reports/{hr_report.pk}/?view={view.pk}").status_code == 404
    assert not SavedView.objects.filter(report=finance_report, user__username="hana").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"columns": "amount,bank_account"}, "columns"),  # not a column of the report (and hidden)
        ({"columns": "amount,amount"}, "columns"),
        ({"sort": "-nope"}, "sort"),
        ({"filters": "[1, 2]"}, "filters"),
        ({"filters": '{"bank_account": "x"}'}, "filters"),  # not a column of the report
        ({"search": "x" * 201}, "search"),
    ],
)
def test_bad_view_input_is_a_form_error(
    catalog: dict[str, Any], sign_in: Callable[[str], Client], overrides: dict[str, str], field: str
) -> None:
    report = catalog["finance_report"]
    response = sign_in("frank").post(f"/reports/{report.pk}/views/", _view(**overrides))
    assert response.status_code == 400
    assert field in response.context["view_form"].errors
    assert "data-view-errors" in response.content.decode()
    assert not SavedView.objects.exists()


def test_save_view_needs_sign_in_and_csrf(catalog: dict[str, Any], client: Client, sign_in: Any) -> None:
    report = catalog["finance_report"]
    assert client.post(f"/reports/{report.pk}/views/", _view()).status_code == 302
    signed = sign_in("frank")
    signed.handler.enforce_csrf_checks = True
    assert signed.post(f"/reports/{report.pk}/views/", _view()).status_code == 403
    assert not SavedView.objects.exists()
