"""The jobs app's REST API: jobs, runs, run requests, data sources and ingestion (wired by api.urls)."""
