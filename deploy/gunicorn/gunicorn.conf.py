"""gunicorn settings for an Atrium web instance (ATRIUM_ROLE=web): sync workers behind nginx.

Each web VM runs two instances, `atrium-web@8001` and `atrium-web@8002` (deploy/systemd/atrium-web@.service), so a
rolling restart always leaves one serving; nginx's upstream lists both. Everything that differs per host comes from
the environment (/etc/atrium/atrium.env and the unit's `GUNICORN_BIND`):

- `GUNICORN_BIND`: `127.0.0.1:8001` or `unix:/run/atrium/web-8001.sock`.
- `GUNICORN_WORKERS`: workers per instance. Default: one per core plus one, per instance (two instances per VM
  make about 2 x cores + 2 in all, gunicorn's usual rule of thumb for sync workers).
- `GUNICORN_TIMEOUT`: seconds a request may take before its worker is killed (nginx waits 35 s: keep it below).

Restart or reload: a release (new code, a switched /srv/atrium/app link) or a change of /etc/atrium/atrium.env needs
`systemctl restart atrium-web@8001`, then @8002 once the first is ready (docs/runbooks/deploy-and-rolling-upgrade.md):
a HUP reload forks the new workers from the running master, which keeps its working directory, interpreter and
environment. `systemctl reload` (HUP) is for a change of this file's values only: gunicorn re-reads it, starts new
workers and stops the old ones when they finish their requests (no preload_app, so the workers import the app).
"""

import multiprocessing
import os
import shutil

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


# prometheus_client's multiprocess mode (docs/monitoring.md, "Many workers, one answer"): the unit sets
# PROMETHEUS_MULTIPROC_DIR for web instances only. The directory must be empty when the master starts (a
# restart is a counter reset), and each exited worker is marked dead so that its live gauges are dropped.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, mode=0o750, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """On SIGTERM, stop listening at once, then finish the request in hand (gunicorn's own handler does that).

    The master closes its copy of the listening socket on TERM, but a sync worker keeps its copy until it exits,
    after the request it is serving. Meanwhile the kernel still completes connections into the socket's backlog,
    nobody accepts them, and they are reset when the last worker exits; nginx has sent the request by then, so it
    may not pass a POST to the other instance (502). With every copy closed at once, new connections are refused,
    and nginx retries those on the other instance whatever the method (nothing was sent). A HUP reload is not
    affected: the master and the new workers keep the socket open.
    """
    import signal

    graceful_exit = signal.getsignal(signal.SIGTERM)

    def stop_listening_then_exit(signum, frame):
        for listener in worker.sockets:
            listener.close()
        graceful_exit(signum, frame)

    signal.signal(signal.SIGTERM, stop_listening_then_exit)
