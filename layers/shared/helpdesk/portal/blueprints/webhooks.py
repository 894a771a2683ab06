"""Inbound chat and messaging webhooks."""

from __future__ import annotations

from chalice import Blueprint

from helpdesk.portal.router import Call, Router
from helpdesk.portal.schemas import ChatMessage, ChatResult
from helpdesk.portal.services import webhooks

blueprint = Blueprint(__name__)
router = Router(blueprint, "webhooks")


@router.route(
    "/api/webhooks/chat",
    "POST",
    auth="webhook",
    summary="A chat message: a new ticket or a reply on its conversation's ticket",
    response=ChatResult,
    # The body is verified against its signature before it is parsed, so the view reads the
    # raw bytes itself; the document still shows its model.
    documented_body=ChatMessage,
)
def chat(call: Call) -> ChatResult:
    identity = (call.request.context or {}).get("identity") or {}
    source = str(identity.get("sourceIp") or "unknown")
    webhooks.verify(call.portal, call.headers, call.raw_body, source=source, now=call.now)
    return webhooks.receive(call.portal, call.raw_body, now=call.now)
