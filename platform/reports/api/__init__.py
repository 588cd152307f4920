"""The reports app's REST API: datasets (the catalog), report definitions and their data (wired by api.urls)."""
