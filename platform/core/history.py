"""Change history for third-party configuration tables (django-constance's live settings)."""

from constance.models import Constance
from simple_history import register
from simple_history.models import HistoricalRecords

# Registered here, with the history table in `core`, because constance's own app cannot hold our migration.
if not hasattr(Constance, "history"):
    register(Constance, app="core", records_class=HistoricalRecords)
