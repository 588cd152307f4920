"""gunicorn settings for an Atrium web instance (ATRIUM_ROLE=web): sync workers behind nginx.

Each web VM runs two instances, `atrium-web@8001` and `atrium-web@8002` (deploy/systemd/atrium-web@.service), so a
rolling restart always leaves one serving; nginx's upstream lists both. Everything that differs per host comes from
the environment (/etc/atrium/atrium.env and the unit's `GUNICORN_BIND`):

- `GUNICORN_BIND`: `127.0.0.1:8001` or `unix:/run/atrium/web-8001.sock`.
- `GUNICORN_WORKERS`: workers per instance. Default: one per core plus one, per instance (two instances per VM
  make about 2 x cores + 2 in all, gunicorn's usual rule of thumb for sync workers).
- `GUNICORN_TIMEOUT`: seconds a request may take before its worker is killed (nginx waits 35 s: keep it below).

Reloads: `systemctl reload atrium-web@8001` sends HUP: gunicorn starts new workers with the new code and stops
the old ones when they finish their requests (no preload_app, so the new workers import the new code).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30  # on HUP/TERM, requests in flight get this long to finish
max_requests = 2000  # recycle workers now and then, so a slow leak never becomes an outage
max_requests_jitter = 200
# Only nginx on this host may set X-Forwarded-* for gunicorn; Django's own TRUSTED_PROXIES decides the client.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Worker heartbeat files in RAM: a slow or full disk never makes gunicorn think its workers hang.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")  # noqa: S108 (a tmpfs, on purpose)
# Refuse oversized request lines and headers early (nginx already limits them; this guards direct calls).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
preload_app = False  # HUP must load the new code
# gunicorn 24+ opens a control socket (for `gunicornc`), by default in $XDG_RUNTIME_DIR or ~/.gunicorn/: the same
# path for both instances, and a read-only home under the unit's ProtectSystem=strict. Under systemd it goes to the
# instance's own RuntimeDirectory (/run/atrium/web-PORT); elsewhere it is off.
_runtime_directory = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
if _runtime_directory:
    control_socket = os.path.join(_runtime_directory, "gunicorn.ctl")
else:
    control_socket_disable = True
proc_name = "atrium-web-" + bind.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
pythonpath = "platform,."
wsgi_app = "atrium.wsgi:application"
accesslog = "-"  # stdout -> journald; nginx writes the JSON access log with the request id
errorlog = "-"
