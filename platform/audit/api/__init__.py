"""The audit app's REST API: security events, read-only, for platform admins and auditors."""
