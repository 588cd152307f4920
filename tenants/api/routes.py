"""The tenants app's endpoints under /api/v1/."""

from api.routes import Route

from .views import SectionRoleViewSet, SectionViewSet

ROUTES = [
    Route("sections", SectionViewSet, "section"),
    Route("section-roles", SectionRoleViewSet, "section-role"),
]
