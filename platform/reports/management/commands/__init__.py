"""manage.py seed_datasets."""
