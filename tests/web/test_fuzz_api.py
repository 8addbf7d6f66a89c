"""Property-based fuzzing of the API against its own OpenAPI spec (schemathesis 4).

Every operation in ``/openapi.json`` gets generated requests, valid and invalid (schemathesis's
coverage, fuzzing and negative phases), over real HTTP to the served app on the known-answer
world, with a user's API key; the app must never answer a 5xx, and its answers' status codes,
bodies, headers and content types must be the documented ones. The same requests without a
key must meet the documented 401 wherever the document asks for a key.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import Served

# The last two tests read what the fuzz tests recorded in this process: pytest-xdist must
# keep the whole module on one worker (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("fuzz_api")

schema = schemathesis.pytest.from_fixture("api_schema")
# (operation, status) of every generated request, to prove the key got requests past auth.
ANSWERS: Counter[tuple[str, int]] = Counter()
# The same for requests sent without a key, to prove each keyed route's 401 was checked.
KEYLESS: Counter[tuple[str, int]] = Counter()


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
            # Starlette's 405 lists the methods of the first route matching the path only
            # (GET and POST /stations are two routes); a framework detail, not a crash.
            allow_header_conformance,
        ],
    )
    ANSWERS[(case.operation.label, answer.status_code)] += 1


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_without_a_key_the_documented_401_comes_back(case: schemathesis.Case, api: Served) -> None:
    answer = case.call_and_validate(
        base_url=api.url,
        timeout=10,
        checks=[
            status_code_conformance,
            response_schema_conformance,
            response_headers_conformance,
            content_type_conformance,
        ],
    )
    KEYLESS[(case.operation.label, answer.status_code)] += 1
    if answer.status_code == 401:
        assert answer.headers["www-authenticate"] == ["Bearer"]
    if case.operation.definition.raw.get("security"):
        assert not 200 <= answer.status_code < 300, "a keyed route answered without a key"


def test_fuzzing_got_past_authentication() -> None:
    # Runs after the fuzz test (file order): its key must have opened the handlers, or the
    # fuzzing above only ever met the 401 gate.
    assert ANSWERS, "run the whole module: the fuzz test records what it saw"
    reached = {op for (op, status), _ in ANSWERS.items() if 200 <= status < 300}
    assert {"POST /recommend", "POST /stations"} <= reached, ANSWERS


def test_every_keyed_route_was_refused_with_the_documented_401(
    api_schema: schemathesis.BaseSchema,
) -> None:
    # Runs after the keyless test (file order), which validated each 401 against the spec.
    assert KEYLESS, "run the whole module: the keyless test records what it saw"
    keyed = {
        op.label
        for op in (result.ok() for result in api_schema.get_all_operations())
        if op.definition.raw.get("security")
    }
    refused = {op for (op, status), _ in KEYLESS.items() if status == 401}
    assert keyed and keyed <= refused, KEYLESS
