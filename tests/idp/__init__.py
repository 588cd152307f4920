"""A tiny OpenID Connect provider for Atrium's tests: django-oauth-toolkit in its own Django project.

The test harness (tests/harness/oidc_provider.py) runs it with `runserver` in a subprocess, with its own SQLite
database, RSA signing key, session and CSRF cookie names. Run by hand: see tests/idp/manage.py.
"""
