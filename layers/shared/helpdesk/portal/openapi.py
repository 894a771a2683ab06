"""The OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from helpdesk.portal.router import INTEGER_PARAMS, REGISTRY, RouteSpec
from helpdesk.portal.schemas import Out

TITLE = "Help desk portal API"
VERSION = "1"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "agent": [{"agentToken": []}],
    "admin": [{"agentToken": []}],
    "customer": [{"customerSession": []}, {"customerToken": []}],
    "webhook": [{"webhookSignature": [], "webhookTimestamp": []}],
    "public": [],
}

_ERRORS = {
    "400": "The input breaks a rule; `field` names it",
    "401": "Not signed in, or the token or link is invalid, expired or used",
    "403": "Signed in without the role this needs",
    "404": "No such item, or one the caller may not see",
    "409": "The item changed since it was read",
    "413": "The body or upload is too large",
    "429": "Too many requests; see Retry-After",
    "500": "Unexpected error (logged); the message is generic",
}


class ErrorDetail(Out):
    code: str
    message: str
    field: str | None


class ErrorBody(Out):
    error: ErrorDetail


def document(routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI document for a Chalice route table (app.routes)."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    _add_schema(ErrorBody, schemas)
    for path in sorted(routes):
        operations: dict[str, Any] = {}
        for method in sorted(routes[path]):
            spec = REGISTRY.get((path, method))
            operations[method.lower()] = _operation(path, method, spec, schemas)
        paths[path] = operations
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Customer portal, agent workspace, admin settings and webhooks. "
            'Errors are always {"error": {"code", "message", "field"}}.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "agentToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "customerSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "helpdesk_session",
                },
                "customerToken": {"type": "http", "scheme": "bearer"},
                "webhookSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Helpdesk-Signature",
                },
                "webhookTimestamp": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Helpdesk-Timestamp",
                },
            },
        },
    }


def _operation(
    path: str, method: str, spec: RouteSpec | None, schemas: dict[str, Any]
) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0}
            if name in INTEGER_PARAMS
            else {"type": "string"},
        }
        for name in _PARAM.findall(path)
    ]
    if spec is None:
        return {"parameters": parameters, "responses": {"200": {"description": "OK"}}}
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{_slug(path)}",
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": _SECURITY[spec.auth],
        "parameters": parameters + _query_parameters(spec.query, schemas),
        "responses": _responses(spec, schemas),
    }
    body = _body_schema(spec, path, schemas)
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def _responses(spec: RouteSpec, schemas: dict[str, Any]) -> dict[str, Any]:
    status = "204" if spec.status == 204 else str(spec.status)
    success: dict[str, Any] = {"description": spec.summary}
    if status != "204":
        if spec.response is not None:
            schema: dict[str, Any] = _add_schema(spec.response, schemas)
        elif spec.produces == "application/json":
            schema = {"type": "object"}
        else:
            schema = {"type": "string"}
        success["content"] = {spec.produces: {"schema": schema}}
    responses = {status: success}
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for code, text in _ERRORS.items():
        if (
            spec.auth == "public"
            and code in {"401", "403"}
            and not spec.path.startswith("/api/auth")
        ):
            continue
        responses[code] = {
            "description": text,
            "content": {"application/json": {"schema": error_ref}},
        }
    return responses


def _body_schema(spec: RouteSpec, path: str, schemas: dict[str, Any]) -> dict[str, Any] | None:
    model = spec.body or spec.documented_body
    if model is None:
        return None
    if path.startswith("/api/admin/"):
        from helpdesk.portal.services.admin import KINDS, model_of

        return {"oneOf": [_add_schema(model_of(kind), schemas) for kind in KINDS]}
    return _add_schema(model, schemas)


def _query_parameters(model: type[BaseModel] | None, schemas: dict[str, Any]) -> list[Any]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _add_schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """Put the model (and the models it uses) in components; returns a $ref to it."""
    name = model.__name__
    if name not in schemas:
        schema = model.model_json_schema(
            ref_template="#/components/schemas/{model}",
            by_alias=True,
            mode="serialization" if issubclass(model, Out) else "validation",
        )
        for inner, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(inner, definition)
        schemas[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "root"
