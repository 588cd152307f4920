"""The analytics app's REST API: the daily aggregates, read-only (/api/v1/analytics/…)."""
