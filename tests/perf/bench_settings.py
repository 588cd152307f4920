"""Settings for benchmark servers: Atrium's own, plus a baseline route and a template engine with no context."""

from atrium.settings import *  # noqa: F403
from atrium.settings import TEMPLATES

ROOT_URLCONF = "tests.perf.bench_urls"
# The baseline: the same bytes rendered by a plain TemplateView, through an engine with no context processors
# (so no session, user or database work happens for it).
TEMPLATES = [
    *TEMPLATES,
    {
        "NAME": "plain",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [__import__("os").environ.get("ATRIUM_BENCH_TEMPLATES", "/nonexistent")],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": []},
    },
]
