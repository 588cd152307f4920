"""Management commands of the test identity provider."""
