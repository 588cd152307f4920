"""Change history for third-party configuration tables (django-constance's live settings).

django-constance stores a live setting's default the first time anything reads it. Left alone, that write would
happen inside some user's request, and the history would show that user (an auditor opening a page, say) as
having "changed" the setting. `store_live_setting_defaults` runs after every migrate (and test-database flush)
and stores every missing default up front, as the system, so reading a setting never writes.
"""

from typing import Any

from constance.models import Constance
from simple_history import register
from simple_history.models import HistoricalRecords

# Registered here, with the history table in `core`, because constance's own app cannot hold our migration.
if not hasattr(Constance, "history"):
    register(Constance, app="core", records_class=HistoricalRecords)


def store_live_setting_defaults(**kwargs: Any) -> None:
    """Store the default of every live setting that has no row yet (post_migrate; idempotent)."""
    from constance import config
    from django.conf import settings
    from django.db import DatabaseError

    try:
        stored = set(Constance.objects.values_list("key", flat=True))
    except DatabaseError:  # constance's table is not there yet (a partial migrate)
        return
    for key, options in settings.CONSTANCE_CONFIG.items():
        if key not in stored:
            setattr(config, key, options[0])
