"""The fuzzer in the suite: schemathesis generates requests for every operation of the
OpenAPI document, valid and not, and checks that none is a server error, that every status
is one the document declares for that operation, and that every answer matches its schema.

Bounded by FUZZ_EXAMPLES per operation so the suite stays fast; `python -m bench.fuzz` runs
the same checks over 10,000 requests and more.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.main import create_app
from dedup.config import Settings
from tests.conftest import bearer, make_key

FUZZ_EXAMPLES = int(os.environ.get("DEDUP_FUZZ_EXAMPLES", "25"))  # bench.fuzz asks for more
REPORT = os.environ.get("DEDUP_FUZZ_REPORT")  # bench.fuzz: a file to append a line per request
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


@pytest.fixture
def api_schema(settings: Settings) -> Iterator[schemathesis.BaseSchema]:
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan: the app's runtime lives while fuzzing
        # every request carries an admin key, so that the fuzzer reaches every operation
        AUTHORIZATION.update(bearer(make_key(settings, requests_per_minute=0, articles_per_day=0)))
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")
AUTHORIZATION: dict[str, str] = {}  # the admin key of the fixture's deployment


@schema.parametrize()
@hypothesis.settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_no_operation_answers_a_server_error_or_off_its_schema(
    case: Any,
) -> None:  # schemathesis.Case
    response = case.call_and_validate(checks=CHECKS, headers=AUTHORIZATION)
    if REPORT:
        with Path(REPORT).open("a", encoding="utf-8") as report:
            report.write(f"{case.method} {case.path} {response.status_code}\n")
