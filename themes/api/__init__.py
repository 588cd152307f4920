"""The themes app's REST API: themes, and the caller's own display preferences (wired into /api/v1/ by api.urls)."""
