"""`manage.py health`."""
