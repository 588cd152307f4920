"""The feedback app's REST API: bug reports (wired into /api/v1/ by api.urls)."""
