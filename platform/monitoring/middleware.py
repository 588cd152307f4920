"""Answers the probes before the rest of the middleware: no session, section, theme or host lookup.

The F5 polls /-/health/ every second from each member, often with an IP address as Host, and on a section's own
host name the section URLconf would not know the path at all. So the probe paths are served here, right after the
request id and the security middleware, whatever the host; everything else goes on down the stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import views

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
