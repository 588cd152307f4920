"""Benchmark URLs: the platform's, plus /bench/plain/ (a plain TemplateView serving a captured page)."""

from django.urls import path
from django.views.generic import TemplateView

from atrium.urls import handler403, handler404, handler500  # noqa: F401
from atrium.urls import urlpatterns as platform_urlpatterns

urlpatterns = [
    path("-/bench/plain/", TemplateView.as_view(template_name="captured.html", template_engine="plain")),
    *platform_urlpatterns,
]
