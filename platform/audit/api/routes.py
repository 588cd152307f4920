"""The audit app's endpoints under /api/v1/ (read-only)."""

from api.routes import Route

from .views import HistoryViewSet, SecurityEventViewSet

ROUTES = [
    Route("security-events", SecurityEventViewSet, "security-event"),
    Route("history", HistoryViewSet, "history"),
]
