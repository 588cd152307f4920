"""run_job, list_jobs, render_crontab."""
