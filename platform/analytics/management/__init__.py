"""Management commands of the analytics app."""
