"""Theme packages on disk: themes/packages/<name>/ with static/ (served under themes/<name>/) and templates/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PACKAGES_DIR = Path(__file__).resolve().parent / "packages"


@lru_cache(maxsize=1)
def available_packages() -> frozenset[str]:
    if not PACKAGES_DIR.is_dir():
        return frozenset()
    return frozenset(p.name for p in PACKAGES_DIR.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def static_dirs() -> list[tuple[str, str]]:
    """STATICFILES_DIRS entries: each package's static/ folder, under the prefix themes/<name>."""
    return [
        (f"themes/{name}", str(PACKAGES_DIR / name / "static"))
        for name in sorted(available_packages())
        if (PACKAGES_DIR / name / "static").is_dir()
    ]


def template_dir(name: str) -> Path | None:
    folder = PACKAGES_DIR / name / "templates"
    return folder if name in available_packages() and folder.is_dir() else None
