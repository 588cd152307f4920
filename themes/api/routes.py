"""The themes app's endpoints under /api/v1/."""

from api.routes import Route

from .views import PreferenceViewSet, ThemeViewSet

ROUTES = [
    Route("themes", ThemeViewSet, "theme"),
    Route("preferences", PreferenceViewSet, "preference"),
]
