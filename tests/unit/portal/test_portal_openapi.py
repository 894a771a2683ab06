"""The OpenAPI document matches the route table, both ways."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client


def _document(portal_function: Any) -> dict[str, Any]:
    with Client(portal_function.app) as client:
        response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.body)


def test_every_route_is_in_the_document_and_every_documented_path_is_a_route(
    portal_function: Any,
) -> None:
    document = _document(portal_function)
    routes = {
        (path, method.lower())
        for path, methods in portal_function.app.routes.items()
        for method in methods
    }
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }

    assert routes == documented
    assert document["openapi"] == "3.1.0"


def test_request_and_response_bodies_come_from_the_models(portal_function: Any) -> None:
    document = _document(portal_function)
    reply = document["paths"]["/api/agent/tickets/{number}/replies"]["post"]
    queue = document["paths"]["/api/agent/tickets"]["get"]

    body_ref = reply["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref == "#/components/schemas/ReplyRequest"
    assert "text" in document["components"]["schemas"]["ReplyRequest"]["required"]
    assert reply["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ActionResult"
    )
    assert reply["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    assert {p["name"] for p in queue["parameters"]} >= {"team", "status", "sort", "cursor", "q"}
    assert reply["security"] == [{"agentToken": []}]


def test_every_reference_in_the_document_resolves(portal_function: Any) -> None:
    document = _document(portal_function)
    schemas = document["components"]["schemas"]
    refs: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "$ref" in value:
                refs.append(value["$ref"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(document)

    assert refs
    missing = {ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas}
    assert missing == set()
