"""The platform's URLs plus two section pages that only the monitoring tests use: one fails, one writes a log line."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

logger = logging.getLogger("atrium.tests")


def fail(request: HttpRequest, section_slug: str) -> HttpResponse:
    raise RuntimeError("a failing page, for the error metrics")


def write_log_line(request: HttpRequest, section_slug: str) -> HttpResponse:
    logger.warning("a line written while serving a section page")
    return HttpResponse("logged")


urlpatterns = [
    path("<slug:section_slug>/-fail/", fail),
    path("<slug:section_slug>/-log/", write_log_line),
    path("", include("atrium.urls")),
]
