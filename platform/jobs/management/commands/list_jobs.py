"""`manage.py list_jobs`: every registered job with its schedule, owner, timeout, next run and last outcome."""

from __future__ import annotations

from typing import Any

from croniter import croniter
from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.models import JobRun
from jobs.registry import all_jobs


class Command(BaseCommand):
    help = "List the registered jobs with their schedules and last outcomes."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.localtime()
        header = f"{'JOB':<34} {'SCHEDULE':<16} {'OWNER':<12} {'TIMEOUT':>7}  {'NEXT RUN':<16}  LAST RUN"
        self.stdout.write(header)
        for spec in all_jobs():
            last = JobRun.objects.filter(job=spec.name).order_by("-started_at", "-id").first()
            next_run = croniter(spec.schedule, now).get_next(type(now))
            last_text = (
                f"{timezone.localtime(last.started_at):%Y-%m-%d %H:%M} {last.outcome}" if last is not None else "never"
            )
            self.stdout.write(
                f"{spec.name:<34} {spec.schedule:<16} {spec.owner:<12} {spec.timeout:>6}s  "
                f"{next_run:%Y-%m-%d %H:%M}  {last_text}"
            )
