"""Request metrics per section, counted in the web worker that served the request.

- `atrium_http_requests_total{section,method,status_class}`: responses, by section slug ("platform" outside any
  section), method (the usual verbs, else "other") and status class (2xx, 3xx, 4xx, 5xx).
- `atrium_http_request_duration_seconds{section}`: time from monitoring.middleware.RequestMetricsMiddleware (just
  before section resolution) until the response left it.

Labels are bounded on purpose: never a raw path (every distinct path would be a new series). Under gunicorn these
live in prometheus_client's multiprocess files when PROMETHEUS_MULTIPROC_DIR is set (see monitoring.exposition).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PLATFORM = "platform"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "atrium_http_requests",
    "HTTP responses, by section (slug, or platform), method and status class (2xx, 3xx, 4xx, 5xx).",
    ["section", "method", "status_class"],
)
REQUEST_DURATION = Histogram(
    "atrium_http_request_duration_seconds",
    "Time to answer a request, by section (slug, or platform).",
    ["section"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "other"


def method_label(method: str | None) -> str:
    return method if method in METHODS else "other"


def record_request(section: str | None, method: str | None, status: int, seconds: float) -> None:
    """Count one answered request."""
    label = section or PLATFORM
    REQUESTS.labels(label, method_label(method), status_class(status)).inc()
    REQUEST_DURATION.labels(label).observe(seconds)
