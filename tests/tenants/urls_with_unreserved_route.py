"""A URL configuration with a route that is not a reserved slug, and one that fails, for the tests."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from atrium.urls import handler403, handler404, handler500
from atrium.urls import urlpatterns as platform_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("newthing/", boom), path("boom/", boom), *platform_urlpatterns]
