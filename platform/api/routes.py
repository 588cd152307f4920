"""`Route`: how an app names one endpoint of /api/v1/ in its own `api/routes.py` (collected by `api.urls`)."""

from __future__ import annotations

from typing import Any, NamedTuple


class Route(NamedTuple):
    """One router registration: /api/v1/<prefix>/ served by `viewset`, URL names `api:<basename>-list|detail`."""

    prefix: str
    viewset: Any
    basename: str
