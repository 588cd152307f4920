"""The accounts app's endpoints under /api/v1/."""

from api.routes import Route

from .views import ApiTokenViewSet

ROUTES = [Route("tokens", ApiTokenViewSet, "token")]
