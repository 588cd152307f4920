"""URLs of core's own pages: the component showcase and its sample-data endpoint (mounted at /components/)."""

from django.urls import path

from . import views_showcase

app_name = "core"

urlpatterns = [
    path("", views_showcase.showcase, name="components"),
    path("sample-data/", views_showcase.sample_data, name="components-sample-data"),
]
