"""Admin settings: teams, agents and roles, categories, routing, SLA policies and calendars,
canned responses, macros, webhooks, organisations and branding, each validated by its model.

SLA policies and calendars use the SLA package's models (issue 4), imported only when an admin
route needs them, so that the portal's cold start does not pay for the holiday tables.
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from helpdesk.domain.models import Agent, Organisation, Team
from helpdesk.exceptions import NotFoundError, ValidationError
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import (
    Branding,
    CannedResponse,
    Category,
    Items,
    Macro,
    RoutingRule,
    Webhook,
)

logger = logging.getLogger(__name__)

# Route kinds whose items live under another configuration kind (the SLA package's own).
STORED_AS = {"sla-policies": "sla_policy", "calendars": "calendar"}

# route kind -> the model, or "module:Class" for models imported on first use
KINDS: dict[str, type[BaseModel] | str] = {
    "teams": Team,
    "agents": Agent,
    "categories": Category,
    "routing": RoutingRule,
    "sla-policies": "helpdesk.sla.policy:SlaPolicy",
    "calendars": "helpdesk.sla.calendar:Calendar",
    "canned-responses": CannedResponse,
    "macros": Macro,
    "webhooks": Webhook,
    "organisations": Organisation,
    "branding": Branding,
    "rules": "helpdesk.automation.rules:Rule",
}


def model_of(kind: str) -> type[BaseModel]:
    """The model that validates items of `kind`; raises NotFoundError for an unknown kind."""
    found = KINDS.get(kind)
    if found is None:
        raise NotFoundError(f"there are no {kind} settings")
    if isinstance(found, str):
        module_name, _, name = found.partition(":")
        model: type[BaseModel] = getattr(importlib.import_module(module_name), name)
        return model
    return found


def stored_kind(kind: str) -> str:
    return STORED_AS.get(kind, kind)


def list_items(portal: Portal, kind: str) -> Items:
    model = model_of(kind)
    items = portal.config.list(stored_kind(kind), model)
    return Items(items=[item.model_dump(mode="json") for item in items])


def get_item(portal: Portal, kind: str, item_id: str) -> dict[str, Any]:
    """One item; raises NotFoundError."""
    return portal.config.get(stored_kind(kind), item_id, model_of(kind)).model_dump(mode="json")


def put_item(
    portal: Portal, kind: str, item_id: str, body: Any, *, now: datetime
) -> dict[str, Any]:
    """Create or replace an item; raises ValidationError naming the bad field (the id in the
    body must match the path)."""
    model = model_of(kind)
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    if "id" in body and body["id"] != item_id:
        raise ValidationError("the id in the body differs from the path", field="id")
    if "id" in model.model_fields:
        body = {**body, "id": item_id}
    item = model.model_validate(body)
    if kind in STORED_AS:
        _save_sla_setting(portal, kind, item, now=now)
    else:
        portal.config.put(kind, item_id, item)
    if isinstance(item, Agent):
        from helpdesk.portal.services.login import sync_groups

        if portal.settings.user_pool_id:
            sync_groups(portal, item)
    logger.info("setting changed", extra={"kind": kind, "item_id": item_id})
    return item.model_dump(mode="json")


def delete_item(portal: Portal, kind: str, item_id: str) -> None:
    """Delete an item; raises NotFoundError when there is none."""
    portal.config.get(stored_kind(kind), item_id, model_of(kind))
    portal.config.delete(stored_kind(kind), item_id)
    logger.info("setting deleted", extra={"kind": kind, "item_id": item_id})


def _save_sla_setting(portal: Portal, kind: str, item: BaseModel, *, now: datetime) -> None:
    """Store a policy or calendar through the SLA service, which recomputes open tickets."""
    from helpdesk.sla.service import SlaStore

    store = SlaStore(portal.config)
    if kind == "sla-policies":
        changed = store.save_policy(item, portal.tickets, now=now)  # type: ignore[arg-type]
    else:
        changed = store.save_calendar(item, portal.tickets, now=now)  # type: ignore[arg-type]
    logger.info("sla setting saved", extra={"kind": kind, "tickets_changed": changed})
