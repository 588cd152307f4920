"""/-/health/live, /-/health/ready and /metrics (included at the root: the F5 and Prometheus use fixed paths)."""

from django.urls import URLPattern, path

from . import views

app_name = "monitoring"

urlpatterns: list[URLPattern] = [
    path("-/health/live", views.live, name="live"),
    path("-/health/ready", views.ready, name="ready"),
    path("metrics", views.metrics, name="metrics"),
]
