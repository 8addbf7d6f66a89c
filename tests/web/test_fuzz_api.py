"""Property-based fuzzing of the API against its own OpenAPI spec (schemathesis 4).

Every operation in ``/openapi.json`` gets generated requests, valid and invalid (schemathesis's
coverage, fuzzing and negative phases), over real HTTP to the served app on the known-answer
world, with a user's API key; the app must never answer a 5xx, and its answers' bodies and
content types must be the documented ones.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import allow_header_conformance, status_code_conformance

from tests.web.conftest import Served

schema = schemathesis.pytest.from_fixture("api_schema")
# (operation, status) of every generated request, to prove the key got requests past auth.
ANSWERS: Counter[tuple[str, int]] = Counter()


@pytest.fixture(scope="module")
def api_schema(api: Served) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api.url}/openapi.json")


@pytest.fixture(scope="module")
def auth(api: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.key('fuzzer')}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, api: Served, auth: dict[str, str]) -> None:
    answer = case.call_and_validate(
        base_url=api.url,
        headers=auth,
        timeout=10,
        excluded_checks=[
            # The spec leaves out the 401 every route answers to a missing or bad key.
            status_code_conformance,
            # Starlette's 405 lists the methods of the first route matching the path only
            # (GET and POST /stations are two routes); a framework detail, not a crash.
            allow_header_conformance,
        ],
    )
    ANSWERS[(case.operation.label, answer.status_code)] += 1


def test_fuzzing_got_past_authentication() -> None:
    # Runs after the fuzz test (file order): its key must have opened the handlers, or the
    # fuzzing above only ever met the 401 gate.
    assert ANSWERS, "run the whole module: the fuzz test records what it saw"
    reached = {op for (op, status), _ in ANSWERS.items() if 200 <= status < 300}
    assert {"POST /recommend", "POST /stations"} <= reached, ANSWERS
