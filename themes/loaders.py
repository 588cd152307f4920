"""A template loader that lets the active theme's package override any template (themes/packages/<name>/templates).

It sits before the cached loaders and is itself uncached, because the answer depends on the request's theme.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.template.loaders.filesystem import Loader as FilesystemLoader

from .packages import template_dir

active_package: ContextVar[str] = ContextVar("atrium_theme_package", default="")


class ThemePackageLoader(FilesystemLoader):
    """Looks in the active theme package's templates/ folder first (nothing when the theme has no package)."""

    def get_dirs(self) -> list[Any]:
        folder = template_dir(active_package.get())
        return [folder] if folder else []
