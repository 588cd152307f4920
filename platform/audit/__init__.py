"""Audit: change history for auditors, security event review, retention, alerts, and configuration bundles."""
