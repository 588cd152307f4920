"""URLs under /catalog/: the data catalog (search and browse) and one dataset's page."""

from django.urls import URLPattern, path

from . import views

app_name = "catalog"

urlpatterns: list[URLPattern] = [
    path("", views.catalog, name="list"),
    path("<str:key>/", views.dataset_detail, name="dataset"),
]
