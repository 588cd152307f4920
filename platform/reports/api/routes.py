"""The reports app's endpoints under /api/v1/."""

from api.routes import Route

from .views import DatasetViewSet, ReportDefinitionViewSet

ROUTES = [
    Route("datasets", DatasetViewSet, "dataset"),
    Route("reports", ReportDefinitionViewSet, "report"),
]
