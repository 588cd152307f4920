"""The tenancy app's REST API: sections and section roles (wired into /api/v1/ by api.urls)."""
