"""The audit app's REST API: security events and the configuration history, read-only, for platform admins and
auditors."""
