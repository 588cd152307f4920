"""The monitoring app's job: verify the newest database backup every morning (see monitoring.backups)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import mail_admins, send_mail

from jobs.registry import RetryPolicy, job
from jobs.runner import JobContext

from .backups import JOB_NAME, BackupProblem, Verification, verify

logger = logging.getLogger("atrium.monitoring")


@job(
    name=JOB_NAME,
    schedule="30 6 * * *",  # after the nightly dump (by 04:00) has been copied to BACKUP_DIR
    timeout=int(getattr(settings, "BACKUP_VERIFY_TIMEOUT_SECONDS", 3 * 3600)),
    retry=RetryPolicy(attempts=1),  # a backup that does not restore will not restore on a second try either
)
def verify_backup(ctx: JobContext) -> None:
    """Restore the newest backup into the scratch database and compare its key tables with the live ones."""
    result = Verification()
    try:
        verify(verification=result)
    except BackupProblem as problem:
        ctx.run.detail = result.detail
        alert_backup_problem(str(problem))
        raise
    ctx.run.detail = result.detail
    for count in result.tables:
        ctx.check(f"rows:{count.table}", not count.short, backup=count.backup, live=count.live)
    ctx.add(read=result.backup_rows)
    ctx.message = result.summary()
    if result.warnings:
        logger.warning(
            "backup verified with warnings: %s",
            "; ".join(result.warnings),
            extra={"event": "backup_verification_warning", "job": JOB_NAME},
        )


def alert_backup_problem(problem: str) -> None:
    """A CRITICAL line on atrium.monitoring and an e-mail to SECURITY_ALERT_EMAILS (else ADMINS), as the stale-data
    alert does; Prometheus alerts too (AtriumBackupNotVerified), from the run log."""
    logger.critical("backup verification failed: %s", problem, extra={"event": "backup_verification_failed"})
    subject = f"[Atrium {settings.ATRIUM_ENV}] Backup verification failed"
    body = (
        f"The daily backup verification ({JOB_NAME}) failed:\n\n{problem}\n\n"
        "Until a backup verifies, assume that the database cannot be restored from last night's backup. "
        f"The job's page (/jobs/{JOB_NAME}/) shows the run; docs/monitoring.md describes the checks."
    )
    recipients = [str(address) for address in getattr(settings, "SECURITY_ALERT_EMAILS", [])]
    if recipients:
        send_mail(subject, body, None, recipients, fail_silently=True)
    else:
        mail_admins(subject, body, fail_silently=True)
