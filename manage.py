#!/usr/bin/env python
"""Django's command-line utility for Atrium; puts `platform/` (the source root) on the import path."""

import os
import sys
from pathlib import Path


def main() -> None:
    """Run a management command with the platform source root importable."""
    root = Path(__file__).resolve().parent
    # platform/ is a source root, not a package: a package named `platform` would shadow the standard library.
    sys.path.insert(0, str(root / "platform"))
    sys.path.insert(1, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atrium.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
