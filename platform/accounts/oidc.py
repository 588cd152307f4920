"""OIDC single sign-on (being written; enabled with OIDC_ENABLED=true)."""
