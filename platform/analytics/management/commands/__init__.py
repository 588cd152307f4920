"""`manage.py seed_analytics` and `manage.py aggregate_analytics`."""
