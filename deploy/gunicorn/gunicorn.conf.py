"""gunicorn settings for an Atrium web instance (ATRIUM_ROLE=web): sync workers behind nginx."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then, so a slow leak never becomes an outage
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
pythonpath = "platform,."
wsgi_app = "atrium.wsgi:application"
accesslog = "-"
errorlog = "-"
