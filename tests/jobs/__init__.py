"""Tests of the jobs app: registry, runner, leases, crontab, sync framework and status pages."""
