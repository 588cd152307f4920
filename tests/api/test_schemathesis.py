"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis).

The schema is loaded from the app itself, in process (WSGI), at run time: every operation it lists is tested, so
an endpoint added later is covered without touching this file. The database is the demo, seeded once for the run
(one pytest item; each operation is a subtest), and every call carries a write token of a platform admin, so
writes are exercised too. Operations may change the demo's data: no check depends on what another one did.

Checks: no 5xx, and every response conforms to the schema (a documented status code, the documented content
type and headers, a body that validates against the documented schema).

The run is bounded and reproducible: a few derandomized examples per operation, no deadline, throttling off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken
from accounts.tokens import PREFIX_LENGTH, TOKEN_MARKER

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Examples per operation: enough to reach the validation paths of every body, small enough for a 2-core CI run.
MAX_EXAMPLES = 5
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def in_test_transaction(handler: WSGIHandler) -> Callable[..., list[bytes]]:
    """The real WSGI application, called in process, that (like Django's test client) does not close the database
    connection when a request starts and ends: the test's transaction, with the seeded demo, lives on it."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = handler(environ, start_response)
            try:
                return list(result)
            finally:
                result.close()  # sends request_finished, while close_old_connections is still off
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


@pytest.fixture(autouse=True)
def _pytest_9_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis' lazy loader (4.32) reads `node._nodeid`, which pytest 9.2 no longer has (`_id`): give it one.
    It only writes it back to label the subtests; pytest reports with `nodeid`."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def admin_token(demo: None, token_for: Callable[..., str], settings: Any) -> str:
    """A platform admin's write token, on the demo, with throttling off."""
    settings.API_THROTTLE_RATES = {}
    return token_for("admin", scope="write")


@pytest.fixture
def api_auth(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


def keep_usable(plaintext: str) -> None:
    """The run's own token stays usable whatever an operation did to it (DELETE /tokens/{id} revokes it when the
    generated id happens to be its own): every later operation must still be tested as the admin."""
    ApiToken.objects.filter(prefix=plaintext[len(TOKEN_MARKER) :][:PREFIX_LENGTH]).update(revoked_at=None)


@pytest.fixture
def api_schema(api_auth: dict[str, str]) -> Any:
    """The schema as the app serves it now (so endpoints added by any app are included)."""
    app = in_test_transaction(WSGIHandler())
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=api_auth)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_schema_and_never_fails_with_5xx(
    case: Any, admin_token: str, api_auth: dict[str, str]
) -> None:
    try:
        case.call_and_validate(headers=api_auth, checks=CHECKS)
    finally:
        keep_usable(admin_token)
