"""The accounts app's REST API: the caller's own personal API tokens (wired into /api/v1/ by api.urls)."""
