#!/usr/bin/env python
"""Run the test identity provider by hand, from the repository root.

    ATRIUM_IDP_DATABASE=/tmp/idp.sqlite3 ATRIUM_IDP_KEY_FILE=key.pem ATRIUM_IDP_ISSUER=http://127.0.0.1:9000/o \
        python tests/idp/manage.py runserver 127.0.0.1:9000 --noreload

The tests start it through tests/harness/oidc_provider.py, which also creates the key, users and application.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for `tests.idp`
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
