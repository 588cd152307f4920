"""Tests of the analytics app: recording, beacon, aggregation, privacy, dashboards, seeding and the API."""
