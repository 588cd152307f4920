"""The jobs app's endpoints under /api/v1/."""

from api.routes import Route

from .views import JobRequestViewSet, JobRunViewSet, JobViewSet, SyncSourceViewSet

ROUTES = [
    Route("jobs", JobViewSet, "job"),
    Route("job-runs", JobRunViewSet, "job-run"),
    Route("job-requests", JobRequestViewSet, "job-request"),
    Route("sources", SyncSourceViewSet, "sync-source"),
]
