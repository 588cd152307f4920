"""The analytics app's endpoints under /api/v1/: the daily aggregates, read-only."""

from api.routes import Route

from .views import DailyPageStatViewSet, DailySectionStatViewSet, DailyTransitionViewSet

ROUTES = [
    Route("analytics/daily-sections", DailySectionStatViewSet, "analytics-daily-section"),
    Route("analytics/daily-pages", DailyPageStatViewSet, "analytics-daily-page"),
    Route("analytics/daily-transitions", DailyTransitionViewSet, "analytics-daily-transition"),
]
