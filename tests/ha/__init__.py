"""Cluster tests: a real three-node MariaDB Galera cluster (tests/harness/galera.py) under the platform's code."""
