"""A template loader that lets the active theme's package override any template (themes/packages/<name>/templates).

It sits before the cached loaders because the answer depends on the request's theme; it keeps its own cache per
(package, template name), since package files only change with a deployment.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.template import Origin, Template, TemplateDoesNotExist
from django.template.loaders.filesystem import Loader as FilesystemLoader

from .packages import template_dir

active_package: ContextVar[str] = ContextVar("atrium_theme_package", default="")


class ThemePackageLoader(FilesystemLoader):
    """Looks in the active theme package's templates/ folder first (nothing when the theme has no package)."""

    def __init__(self, engine: Any, dirs: Any = None) -> None:
        super().__init__(engine, dirs)
        self._found: dict[tuple[str, str], Template | None] = {}

    def get_dirs(self) -> list[Any]:
        folder = template_dir(active_package.get())
        return [folder] if folder else []

    def get_template(self, template_name: str, skip: list[Origin] | None = None) -> Template:
        package = active_package.get()
        if not package or template_dir(package) is None:
            raise TemplateDoesNotExist(template_name)
        key = (package, template_name)
        if skip is None and key in self._found:
            template = self._found[key]
            if template is None:
                raise TemplateDoesNotExist(template_name)
            return template
        try:
            template = super().get_template(template_name, skip)
        except TemplateDoesNotExist:
            if skip is None:
                self._found[key] = None
            raise
        if skip is None:
            self._found[key] = template
        return template
