"""The fuzzer in the suite: schemathesis generates requests for every operation of the
OpenAPI document, valid and not, past auth with an admin key, and runs its checks on every
answer (no server error, every status and header as the document declares, every answer on
its schema, auth refused when stripped or spoiled, ...).

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
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.main import create_app
from dedup.config import Settings
from tests.conftest import bearer, make_key

FUZZ_EXAMPLES = int(os.environ.get("DEDUP_FUZZ_EXAMPLES", "25"))  # bench.fuzz asks for more
REPORT = os.environ.get("DEDUP_FUZZ_REPORT")  # bench.fuzz: a file to append a line per request


@pytest.fixture
def api_schema(settings: Settings) -> Iterator[schemathesis.BaseSchema]:
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan: the app's runtime lives while fuzzing
        # every request carries an admin key, so that the fuzzer reaches every operation
        AUTHORIZATION.update(bearer(make_key(settings, requests_per_minute=0, articles_per_day=0)))
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")
AUTHORIZATION: dict[str, str] = {}  # the admin key of the fixture's deployment


@schemathesis.auth()
class AdminKey:
    """Every generated request carries the deployment's admin key, so that the fuzzer gets
    past auth to every operation; schemathesis's own auth checks strip or spoil it to see
    that the API then refuses (401)."""

    def get(self, case: Any, context: Any) -> str:
        return AUTHORIZATION["Authorization"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


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
    # Every check schemathesis has but one: a body that keeps the schema is not always an
    # article the API takes, for rules no JSON Schema can state (an HTML page's main text
    # must hold DEDUP_MIN_WORDS words, as the tokenizer counts them); those are in the
    # fields' descriptions, and the 422 names them.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    if REPORT:
        with Path(REPORT).open("a", encoding="utf-8") as report:
            report.write(f"{case.method} {case.path} {response.status_code}\n")
