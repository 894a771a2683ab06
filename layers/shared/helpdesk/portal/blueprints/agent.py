"""The agent workspace API: the queue, ticket detail and actions, canned responses, macros."""

from __future__ import annotations

from chalice import Blueprint

from helpdesk.domain.models import Agent, Team
from helpdesk.portal.router import Call, Router
from helpdesk.portal.schemas import (
    ActionResult,
    CannedResponse,
    Category,
    Directory,
    DownloadLink,
    Items,
    Macro,
    MergeRequest,
    NoteRequest,
    PresenceList,
    PresenceRequest,
    QueuePage,
    QueueQuery,
    RenderedText,
    ReplyRequest,
    TicketChange,
    TicketDetail,
    VersionOnly,
)
from helpdesk.portal.services.desk import Desk, expected_version
from helpdesk.portal.services.login import agent_view
from helpdesk.portal.services.queue import list_queue

blueprint = Blueprint(__name__)
router = Router(blueprint, "agent")

TICKET = "/api/agent/tickets/{number}"


def _desk(call: Call) -> Desk:
    return Desk(call.portal, call.require_agent(), call.now)


@router.route(
    "/api/agent/tickets",
    "GET",
    auth="agent",
    summary="The queue, filtered, sorted and paged by cursor",
    query=QueueQuery,
    response=QueuePage,
)
def queue(call: Call) -> QueuePage:
    return list_queue(call.portal, call.require_agent(), call.query, now=call.now)


@router.route(
    TICKET, "GET", auth="agent", summary="A ticket with its thread", response=TicketDetail
)
def ticket_detail(call: Call, number: int) -> TicketDetail:
    return _desk(call).detail(number)


@router.route(
    TICKET,
    "PATCH",
    auth="agent",
    summary="Change status, priority, team, category, tags or assignee",
    body=TicketChange,
    response=ActionResult,
)
def change_ticket(call: Call, number: int) -> ActionResult:
    version = expected_version(call.body.version, call.headers, required=True)
    return _desk(call).change(number, call.body, version)


@router.route(
    TICKET + "/replies",
    "POST",
    auth="agent",
    summary="A public reply (mailed for email tickets)",
    body=ReplyRequest,
    response=ActionResult,
    status=201,
)
def reply(call: Call, number: int) -> ActionResult:
    body: ReplyRequest = call.body
    version = expected_version(body.version, call.headers, required=False)
    return _desk(call).reply(number, body.text, html=body.html, status=body.status, version=version)


@router.route(
    TICKET + "/notes",
    "POST",
    auth="agent",
    summary="An internal note",
    body=NoteRequest,
    response=ActionResult,
    status=201,
)
def note(call: Call, number: int) -> ActionResult:
    version = expected_version(call.body.version, call.headers, required=False)
    return _desk(call).note(number, call.body.text, version)


@router.route(
    TICKET + "/merge",
    "POST",
    auth="agent",
    summary="Close this ticket as a duplicate of another",
    body=MergeRequest,
    response=ActionResult,
)
def merge(call: Call, number: int) -> ActionResult:
    version = expected_version(call.body.version, call.headers, required=False)
    return _desk(call).merge(number, call.body.into, version)


@router.route(
    TICKET + "/macros/{macro_id}",
    "POST",
    auth="agent",
    summary="Apply a macro's changes and reply in one step",
    body=VersionOnly,
    response=ActionResult,
)
def apply_macro(call: Call, number: int, macro_id: str) -> ActionResult:
    version = expected_version(call.body.version, call.headers, required=False)
    return _desk(call).apply_macro(number, macro_id, version)


@router.route(
    TICKET + "/canned/{canned_id}",
    "POST",
    auth="agent",
    summary="A canned response filled in for this ticket",
    response=RenderedText,
)
def render_canned(call: Call, number: int, canned_id: str) -> RenderedText:
    return RenderedText(text=_desk(call).render_canned(number, canned_id))


@router.route(
    TICKET + "/presence",
    "GET",
    auth="agent",
    summary="Who else is viewing or replying",
    response=PresenceList,
)
def presence(call: Call, number: int) -> PresenceList:
    return _desk(call).presence(number)


@router.route(
    TICKET + "/presence",
    "PUT",
    auth="agent",
    summary="Say that I am viewing or replying",
    body=PresenceRequest,
    response=PresenceList,
)
def touch_presence(call: Call, number: int) -> PresenceList:
    return _desk(call).touch_presence(number, call.body.activity)


@router.route(
    TICKET + "/attachments/{message_id}/{index}",
    "GET",
    auth="agent",
    summary="A short-lived download link for an attachment",
    response=DownloadLink,
)
def attachment(call: Call, number: int, message_id: str, index: int) -> DownloadLink:
    return _desk(call).attachment(number, message_id, index)


@router.route(
    "/api/agent/canned-responses", "GET", auth="agent", summary="Canned responses", response=Items
)
def canned_responses(call: Call) -> Items:
    items = call.portal.config.list("canned-responses", CannedResponse)
    return Items(items=[item.model_dump(mode="json") for item in items])


@router.route("/api/agent/macros", "GET", auth="agent", summary="Macros", response=Items)
def macros(call: Call) -> Items:
    items = call.portal.config.list("macros", Macro)
    return Items(items=[item.model_dump(mode="json") for item in items])


@router.route(
    "/api/agent/directory",
    "GET",
    auth="agent",
    summary="Teams, agents and categories for pickers",
    response=Directory,
)
def directory(call: Call) -> Directory:
    config = call.portal.config
    return Directory(
        teams=[team.model_dump(mode="json") for team in config.list("teams", Team)],
        agents=[agent_view(agent) for agent in config.list("agents", Agent)],
        categories=[c.model_dump(mode="json") for c in config.list("categories", Category)],
    )
