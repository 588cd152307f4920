"""The backend's DatabaseWrapper: `django.db.backends.mysql`'s, with one connect retry (see the package docstring)."""

from __future__ import annotations

import logging
import time
from typing import Any

import MySQLdb
from django.db.backends.mysql import base

logger = logging.getLogger("atrium.db")

# MariaDB client errors of a connection attempt that never reached a working server: 2002 (socket) and 2003 (TCP)
# cannot connect, 2013 lost connection (here: during the handshake, before anything was sent).
RETRYABLE_CONNECT_ERRORS = frozenset({2002, 2003, 2013})
RETRY_PAUSE_SECONDS = 0.5  # HAProxy marks a refusing writer down at once (observe layer4) and redispatches


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        try:
            return super().get_new_connection(conn_params)
        except MySQLdb.OperationalError as exc:
            if not exc.args or exc.args[0] not in RETRYABLE_CONNECT_ERRORS:
                raise
            logger.warning("Database connection failed (%s); connecting again.", exc)
        time.sleep(RETRY_PAUSE_SECONDS)
        return super().get_new_connection(conn_params)
