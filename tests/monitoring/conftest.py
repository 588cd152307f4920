"""Helpers for the monitoring tests: scrape /metrics as Prometheus does (bearer token) and read samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TOKEN = "monitoring-test-scrape-token"


@dataclass
class Scrape:
    """One /metrics answer, parsed."""

    text: str
    families: dict[str, Any]

    def samples(self, sample_name: str) -> list[Any]:
        return [s for family in self.families.values() for s in family.samples if s.name == sample_name]

    def value(self, sample_name: str, **labels: str) -> float | None:
        """The sample's value whose labels include `labels`; None when there is none."""
        for sample in self.samples(sample_name):
            if all(sample.labels.get(key) == value for key, value in labels.items()):
                return float(sample.value)
        return None

    def total(self, sample_name: str, **labels: str) -> float:
        """Sum over the samples whose labels include `labels` (0 when none)."""
        return sum(
            float(s.value)
            for s in self.samples(sample_name)
            if all(s.labels.get(key) == value for key, value in labels.items())
        )


@pytest.fixture
def scrape(settings: Any) -> Callable[[], Scrape]:
    """Scrape /metrics from outside the monitoring networks, with the bearer token, like deploy's Prometheus."""
    settings.METRICS_TOKEN = SCRAPE_TOKEN

    def _scrape() -> Scrape:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}", REMOTE_ADDR="203.0.113.50")
        assert response.status_code == 200, response.content[:500]
        text = response.content.decode()
        return Scrape(text, {family.name: family for family in text_string_to_metric_families(text)})

    return _scrape
