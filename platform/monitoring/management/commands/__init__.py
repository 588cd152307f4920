"""`manage.py health` and `manage.py verify_backup`."""
