"""Two middleware: the probes, answered before the rest of the stack, and request metrics with the log context.

ProbeMiddleware: the F5 polls /-/health/ every second from each member, often with an IP address as Host, and on a
section's own host name the section URLconf would not know the path at all. So the probe paths are served here,
right after the request id and the security middleware, whatever the host; everything else goes on down the stack.

RequestMetricsMiddleware sits immediately before tenants' SectionMiddleware (see its docstring for why there).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core.context import reset_current_request, set_current_request

from . import views
from .metrics import record_request

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/-/health/live": views.live,
    "/-/health/ready": views.ready,
    "/metrics": views.metrics,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)


class RequestMetricsMiddleware:
    """Counts every answered request by section, method and status class, and times it
    (monitoring.metrics); makes the request visible to the log filter (core.logging) while it is served.

    Its place, immediately before SectionMiddleware, is chosen so that:
    - it runs after the session and authentication middleware, so the log filter can show the user id as soon as
      anything has loaded the user (the filter never loads it itself);
    - it is outside SectionMiddleware, so it also sees the answers made without reaching the views (a refused Host
      header is a 400 made from SectionMiddleware's exception); `request.section` is read after the response is
      back, when SectionMiddleware has set it, so the section label needs no lookup of its own;
    - probes (/-/health/, /metrics) and static files never reach it: they are answered further up, so the F5's
      polling does not drown the real traffic in the counts.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        token = set_current_request(request)
        status = 500  # what the client gets if anything below raises past Django's exception handling
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            reset_current_request(token)
            section = getattr(request, "section", None)
            record_request(getattr(section, "slug", None), request.method, status, time.perf_counter() - started)
