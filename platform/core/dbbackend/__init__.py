"""Django's MySQL/MariaDB backend with one retry of a connection attempt that failed before the server answered.

Used instead of `django.db.backends.mysql` for every `mysql://` DATABASE_URL (atrium/settings.py). Behind HAProxy, a
new connection can land on a Galera node at the instant it dies (kill -9, OOM, power loss): the TCP connection is
accepted by the dying process and closed before its greeting (2013, "at 'handshake: …'"), or refused (2002/2003)
until HAProxy has marked the node down. Nothing was sent, so connecting again is safe for any request, and a moment
later HAProxy sends the connection to a working node (tests/ha/test_failover.py measures it; docs/reliability.md).
"""
