"""GET /-/health/live, /-/health/ready (for the F5 and nginx) and /metrics (for Prometheus)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from core.net import client_ip

from .exposition import render
from .health import readiness


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers. Nothing else is checked: a database outage must not make the F5 restart instances."""
    return JsonResponse({"status": "live"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 when every required component works, else 503 naming the ones that failed."""
    report = readiness()
    return JsonResponse(report.as_json(), status=200 if report.ready else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """From a network in METRICS_ALLOWED_NETWORKS, or with `Authorization: Bearer <METRICS_TOKEN>`."""
    token = getattr(settings, "METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", [])
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: request metrics and Atrium's own gauges, refreshed from the tables first
    (monitoring.exposition: also how gunicorn's workers add up)."""
    if not metrics_allowed(request):
        return JsonResponse(
            {"title": "Forbidden", "status": 403, "detail": "Metrics are served to the monitoring networks only."},
            status=403,
            content_type="application/problem+json",
        )
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
