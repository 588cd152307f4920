"""Write paths for the jobs app's configuration: data sources (SyncSource).

Every change to a source goes through here (the admin, the demo loader, tests): validated, saved with the acting
user and a reason in its history, in a Galera-safe transaction. The synced data itself is written only by the
sync framework (jobs.sync).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import models

from core.services import delete_with_history, run_in_transaction, save_with_history

from .sync_models import RejectedRecord, SourceFreshness, SyncChange, SyncedRecord, SyncSource

# Deleting a big source's rows must respect the same write-set limit as loading them.
DELETE_BATCH_SIZE = 1000


def save_source(source: SyncSource, *, actor: Any, reason: str) -> SyncSource:
    """Create or change a data source (its job sync.<slug> follows at once; cron after the next render_crontab)."""
    return run_in_transaction(lambda: save_with_history(source, actor=actor, reason=reason))  # type: ignore[return-value]


def delete_source(source: SyncSource, *, actor: Any, reason: str) -> None:
    """Delete a data source with its synced records, audit entries, rejections and freshness.

    The rows go first, in batches (a source can hold hundreds of thousands); the source itself last, with its
    history entry. Disabling a source keeps everything and only stops the job.
    """
    for model in (SyncedRecord, SyncChange, RejectedRecord, SourceFreshness):
        _delete_in_batches(model._default_manager.filter(source=source))
    run_in_transaction(lambda: delete_with_history(source, actor=actor, reason=reason))


def _delete_in_batches(queryset: models.QuerySet[Any]) -> None:
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:DELETE_BATCH_SIZE])
        if not ids:
            return
        run_in_transaction(partial(_delete_ids, queryset.model, ids))


def _delete_ids(model: type[models.Model], ids: list[Any]) -> None:
    model._default_manager.filter(pk__in=ids).delete()
