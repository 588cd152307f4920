"""The theming app: themes a section can default to (extended by the portal UI work)."""
