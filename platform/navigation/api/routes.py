"""The navigation app's endpoints under /api/v1/."""

from api.routes import Route

from .views import MenuItemGroupViewSet, MenuItemViewSet

ROUTES = [
    Route("menu-items", MenuItemViewSet, "menu-item"),
    Route("menu-item-groups", MenuItemGroupViewSet, "menu-item-group"),
]
