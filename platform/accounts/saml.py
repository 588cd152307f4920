"""SAML single sign-on (being written; enabled with SAML_ENABLED=true)."""
