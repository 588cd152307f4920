"""The feedback app's endpoints under /api/v1/."""

from api.routes import Route

from .views import BugReportViewSet

ROUTES = [Route("bug-reports", BugReportViewSet, "bug-report")]
