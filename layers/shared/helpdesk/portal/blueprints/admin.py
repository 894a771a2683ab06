"""The admin API: one set of routes per kind of setting; every route needs the admin role."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from helpdesk.portal.router import Call, Router
from helpdesk.portal.schemas import AnyObject, Items
from helpdesk.portal.services import admin

blueprint = Blueprint(__name__)
router = Router(blueprint, "admin")


@router.route(
    "/api/admin/{kind}", "GET", auth="admin", summary="Settings of one kind", response=Items
)
def list_settings(call: Call, kind: str) -> Items:
    return admin.list_items(call.portal, kind)


@router.route("/api/admin/{kind}/{item_id}", "GET", auth="admin", summary="One setting")
def get_setting(call: Call, kind: str, item_id: str) -> dict[str, Any]:
    return admin.get_item(call.portal, kind, item_id)


@router.route(
    "/api/admin/{kind}/{item_id}",
    "PUT",
    auth="admin",
    summary="Create or replace one setting",
    body=AnyObject,
)
def put_setting(call: Call, kind: str, item_id: str) -> dict[str, Any]:
    return admin.put_item(call.portal, kind, item_id, call.body.root, now=call.now)


@router.route(
    "/api/admin/{kind}/{item_id}", "DELETE", auth="admin", summary="Delete one setting", status=204
)
def delete_setting(call: Call, kind: str, item_id: str) -> None:
    admin.delete_item(call.portal, kind, item_id)
