"""Live settings (django-constance) read through a short per-process memo.

A page reads several live settings; without the memo each is a cache or database round trip. A change made in
the admin is seen by every web instance within LIVE_SETTINGS_TTL seconds.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from constance import config

LIVE_SETTINGS_TTL = 2.0

_values: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def live_setting(name: str) -> Any:
    """The current value of live setting `name`, at most LIVE_SETTINGS_TTL seconds old."""
    now = time.monotonic()
    with _lock:
        hit = _values.get(name)
    if hit is not None and now - hit[0] < LIVE_SETTINGS_TTL:
        return hit[1]
    value = getattr(config, name)
    with _lock:
        _values[name] = (now, value)
    return value


def forget_live_settings() -> None:
    with _lock:
        _values.clear()


class LiveSettings:
    """Template access: `{{ live_settings.SUPPORT_EMAIL }}`."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return live_setting(name)
