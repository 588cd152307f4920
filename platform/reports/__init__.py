"""Data catalog and self-service reports: datasets, report definitions, the builder, table and chart data, exports."""
