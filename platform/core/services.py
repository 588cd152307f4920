"""The write path every app's services use: Galera-safe transactions and saves that record who and why.

Galera certifies a transaction only at commit, so two nodes writing the same row make one of them fail with a
deadlock (MariaDB error 1213); a busy row can also time out waiting for a lock (1205). Both are safe to retry
as a whole transaction, so every write service runs through `run_in_transaction`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, models, transaction

logger = logging.getLogger("atrium.services")

T = TypeVar("T")

# MariaDB/MySQL error codes that mean "your transaction lost a race; run it again".
RETRYABLE_MYSQL_ERRORS = frozenset({1213, 1205})


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock or lock-wait timeout, which a retried transaction can get past."""
    return isinstance(exc, OperationalError) and bool(exc.args) and exc.args[0] in RETRYABLE_MYSQL_ERRORS


def backoff_seconds(attempt: int, base: float = 0.05, cap: float = 2.0) -> float:
    """Exponential backoff with full jitter, so competing writers do not retry in lockstep."""
    return random.uniform(0, min(cap, base * (2 ** (attempt - 1))))  # noqa: S311 - jitter, not cryptography


def run_in_transaction(work: Callable[[], T], *, retries: int | None = None, using: str = DEFAULT_DB_ALIAS) -> T:
    """Run `work()` in one transaction, retrying the whole transaction on a Galera/InnoDB conflict.

    Inside an outer transaction there is nothing to retry (the database has already rolled the outer one back),
    so the error is raised for the outermost caller to retry.
    """
    attempts = retries if retries is not None else settings.ATRIUM_WRITE_RETRIES
    outermost = not connections[using].in_atomic_block
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return work()
        except OperationalError as exc:
            if not (outermost and is_retryable(exc)) or attempt == attempts:
                raise
            delay = backoff_seconds(attempt)
            logger.warning(
                "Transaction conflict (%s); retry %d of %d in %.3f s.", exc.args[0], attempt, attempts, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def stamp_history(instance: models.Model, *, actor: Any, reason: str) -> None:
    """Tell django-simple-history who makes the next change to `instance`, and why."""
    instance._history_user = actor if getattr(actor, "is_authenticated", False) else None  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]


def save_with_history(instance: models.Model, *, actor: Any, reason: str, **save_kwargs: Any) -> models.Model:
    """Validate and save `instance`, recording `actor` and `reason` on its history row."""
    instance.full_clean()
    stamp_history(instance, actor=actor, reason=reason)
    instance.save(**save_kwargs)
    return instance


def delete_with_history(instance: models.Model, *, actor: Any, reason: str) -> None:
    """Delete `instance`, recording `actor` and `reason` on the history row of the deletion."""
    stamp_history(instance, actor=actor, reason=reason)
    instance.delete()
