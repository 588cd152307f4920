"""The jobs app: registered jobs, leases, runs, crontab and the sync framework."""
