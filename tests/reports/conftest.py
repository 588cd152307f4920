"""Fixtures for the catalog and reports: the demo with a small volume of the two demo datasets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from reports.demo import ensure_demo_datasets
from reports.models import Dataset, ReportDefinition

INVOICES = 300
HEADCOUNT = 120


@pytest.fixture
def catalog(demo: None) -> dict[str, Any]:
    """The demo sections plus the demo catalog: sources, datasets, clearance, two reports, synced once."""
    lines = ensure_demo_datasets(invoices=INVOICES, headcount=HEADCOUNT)
    return {
        "lines": lines,
        "invoices": Dataset.objects.get(key="finance.invoices"),
        "headcount": Dataset.objects.get(key="hr.headcount"),
        "finance_report": ReportDefinition.objects.get(slug="invoices-by-supplier"),
        "hr_report": ReportDefinition.objects.get(slug="headcount-by-department"),
    }


@pytest.fixture
def cleared(sign_in: Callable[[str], Client]) -> Callable[[str, str], Client]:
    """Sign a demo user in, then give them a clearance group (after sign-in, which mirrors directory groups)."""

    def _cleared(username: str, group: str) -> Client:
        client = sign_in(username)
        get_user_model().objects.get(username=username).groups.add(Group.objects.get(name=group))
        return client

    return _cleared
