"""Health and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from helpdesk.portal.router import Call, Router
from helpdesk.portal.schemas import Health

blueprint = Blueprint(__name__)
router = Router(blueprint, "meta")


@router.route("/api/health", "GET", auth="public", summary="Liveness", response=Health)
def health(call: Call) -> Health:
    return Health(ok=True)


@router.route("/api/openapi.json", "GET", auth="public", summary="This API's OpenAPI document")
def openapi_document(call: Call) -> dict[str, Any]:
    from helpdesk.portal.openapi import document

    return document(call.app.routes)
