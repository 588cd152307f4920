"""Cluster-wide leases: at most one runner of a job at a time, on any job server, on any Galera node.

`acquire(name, ttl)` commits a write to the job's lease row and holds the lease only if that commit succeeds:

- no row yet: INSERT it. Two runners inserting at once on two nodes: Galera certifies one commit and fails the
  other with a deadlock error (1213); on one node, the unique key makes the second insert fail.
- a row whose lease has expired (its holder died or hung past its timeout): take it over with
  `UPDATE … WHERE name = %s AND expires_at < now`. Two runners taking over at once: one UPDATE matches no row
  (on one node) or fails certification (on two).
- a row whose lease is still valid: someone else runs the job; `acquire` returns None and says who.

The lease is never renewed: its time to live is the job's timeout plus a grace period, and the runner kills its
own run at the timeout (jobs.runner), so a live holder always finishes before its lease ends. A holder killed
with SIGKILL leaves its row behind; it expires and the next run takes over.

Time comes from the job server's clock (keep the servers on NTP, as Galera needs anyway).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from .models import JobLease

# Beyond the job's timeout: time to record the run's outcome after the timeout fires.
GRACE_SECONDS = 60


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str


@dataclass(frozen=True)
class Held:
    """Why a lease was not granted: who holds it, until when."""

    host: str
    holder: str
    expires_at: datetime | None

    def message(self, name: str) -> str:
        if self.expires_at is None:  # the row changed hands twice while we looked: someone else has it now
            return f"{name} is already running on {self.host}."
        return f"{name} is already running on {self.host} (lease held until {self.expires_at:%Y-%m-%d %H:%M:%S})."


def host_name() -> str:
    return socket.gethostname()[:100]


def new_holder() -> str:
    return f"{host_name()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire(name: str, ttl_seconds: int) -> Lease | Held:
    """Take the lease on `name` for `ttl_seconds` (+ grace), or say who holds it."""
    holder = new_holder()
    now = timezone.now()
    expires = now + timedelta(seconds=ttl_seconds + GRACE_SECONDS)
    try:
        with transaction.atomic():
            JobLease.objects.create(name=name, holder=holder, host=host_name(), acquired_at=now, expires_at=expires)
        return Lease(name, holder)
    except (IntegrityError, DatabaseError):
        pass  # the row exists (or another node committed it first): try to take over an expired lease
    try:
        with transaction.atomic():
            taken = JobLease.objects.filter(name=name, expires_at__lt=now).update(
                holder=holder, host=host_name(), acquired_at=now, expires_at=expires
            )
    except DatabaseError:
        taken = 0  # lost the certification race on another node
    if taken:
        return Lease(name, holder)
    current = JobLease.objects.filter(name=name).first()
    if current is None:  # released between our two statements: one more try, then give way
        return _retry_once(name, ttl_seconds)
    return Held(current.host, current.holder, current.expires_at)


def _retry_once(name: str, ttl_seconds: int) -> Lease | Held:
    holder = new_holder()
    now = timezone.now()
    try:
        with transaction.atomic():
            JobLease.objects.create(
                name=name,
                holder=holder,
                host=host_name(),
                acquired_at=now,
                expires_at=now + timedelta(seconds=ttl_seconds + GRACE_SECONDS),
            )
        return Lease(name, holder)
    except (IntegrityError, DatabaseError):
        current = JobLease.objects.filter(name=name).first()
        if current is None:
            return Held("another server", "", None)
        return Held(current.host, current.holder, current.expires_at)


def release(lease: Lease) -> None:
    """Give the lease back (only ours: a lease taken over after ours expired is someone else's now)."""
    with transaction.atomic():
        JobLease.objects.filter(name=lease.name, holder=lease.holder).delete()
