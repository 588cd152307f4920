"""The navigation app's REST API: menu items and their group mapping (wired into /api/v1/ by api.urls)."""
