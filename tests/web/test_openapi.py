"""The OpenAPI document says which operations need a key and what a refusal looks like, so
``/docs`` and generated clients know; ``test_fuzz_api.py`` checks the app answers that way."""

from __future__ import annotations

from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from web import build_api

KEYED = {
    "POST /recommend",
    "GET /stations",
    "POST /stations",
    "POST /stations/{station_id}/next",
    "POST /stations/{station_id}/feedback",
    "PATCH /stations/{station_id}/tuning",
    "POST /stations/{station_id}/share",
    "GET /dashboard/data",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The served /openapi.json; the services behind the routes are never called for it."""
    from storage.db import make_engine, upgrade

    engine: Engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'o.db'}")
    upgrade(engine)
    unused = cast(Any, None)
    app = build_api(
        stations=unused, database=engine, composer=unused, names=unused, store_ready=lambda: True
    )
    with TestClient(app) as client:
        found: dict[str, Any] = client.get("/openapi.json").json()
    engine.dispose()
    return found


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": op
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    }


def test_every_keyed_operation_lists_the_401_and_the_bearer_scheme(
    document: dict[str, Any],
) -> None:
    ops = operations(document)
    keyed = {label for label, op in ops.items() if op.get("security")}
    assert keyed == KEYED
    scheme = document["components"]["securitySchemes"]["HTTPBearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert "api-key create" in scheme["description"]
    for label in KEYED:
        assert ops[label]["security"] == [{"HTTPBearer": []}], label
        refused = ops[label]["responses"].get("401")
        assert refused is not None, f"{label} does not document its 401"
        body = refused["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Problem"}, label
        assert refused["headers"]["WWW-Authenticate"]["required"] is True, label


def test_open_operations_document_no_401(document: dict[str, Any]) -> None:
    ops = operations(document)
    for label in ("GET /healthz", "GET /readyz", "GET /metrics", "GET /dashboard"):
        assert "security" not in ops[label], label
        assert "401" not in ops[label]["responses"], label
    assert set(ops["GET /healthz"]["responses"]) == {"200"}
    for label, op in ops.items():
        if "401" in op["responses"]:
            assert label in KEYED, f"{label} documents a 401 it never answers"
