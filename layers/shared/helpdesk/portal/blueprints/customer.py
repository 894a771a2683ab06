"""The customer portal API: branding, suggestions, own tickets, uploads, replies, ratings."""

from __future__ import annotations

from chalice import Blueprint

from helpdesk.portal.router import Call, Router
from helpdesk.portal.schemas import (
    CustomerReply,
    DownloadLink,
    NewTicket,
    PortalAction,
    PortalConfig,
    PortalDetail,
    PortalListQuery,
    PortalPage,
    Rating,
    Suggestion,
    SuggestionQuery,
    Suggestions,
    UploadRequest,
    UploadTicket,
)
from helpdesk.portal.services import customers
from helpdesk.portal.services.customers import CustomerDesk

blueprint = Blueprint(__name__)
router = Router(blueprint, "portal")

TICKET = "/api/portal/tickets/{number}"


def _desk(call: Call) -> CustomerDesk:
    return CustomerDesk(call.portal, call.require_customer(), call.now)


@router.route(
    "/api/portal/config",
    "GET",
    auth="public",
    summary="Brand name and colours",
    response=PortalConfig,
)
def config(call: Call) -> PortalConfig:
    return customers.portal_config(call.portal)


@router.route(
    "/api/portal/suggestions",
    "GET",
    auth="public",
    summary="Knowledge-base articles for a subject being typed",
    query=SuggestionQuery,
    response=Suggestions,
)
def suggestions(call: Call) -> Suggestions:
    # The knowledge base's own search (issue 8), imported here to keep the blueprints apart.
    from helpdesk.portal.blueprints.kb import suggestions as kb_suggestions

    hits = kb_suggestions(call, call.query.q, limit=5)
    return Suggestions(
        articles=[
            Suggestion(id=hit.id, title=hit.title, url=hit.url, excerpt=hit.excerpt) for hit in hits
        ]
    )


@router.route(
    "/api/portal/tickets",
    "GET",
    auth="customer",
    summary="My tickets (or my organisation's, where shared)",
    query=PortalListQuery,
    response=PortalPage,
)
def my_tickets(call: Call) -> PortalPage:
    return _desk(call).tickets(call.query)


@router.route(
    "/api/portal/tickets",
    "POST",
    auth="customer",
    summary="Open a ticket",
    body=NewTicket,
    response=PortalAction,
    status=201,
)
def open_ticket(call: Call) -> PortalAction:
    return _desk(call).open_ticket(call.body)


@router.route(
    TICKET, "GET", auth="customer", summary="A ticket's public thread", response=PortalDetail
)
def ticket(call: Call, number: int) -> PortalDetail:
    return _desk(call).detail(number)


@router.route(
    TICKET + "/replies",
    "POST",
    auth="customer",
    summary="Reply on a ticket",
    body=CustomerReply,
    response=PortalAction,
    status=201,
)
def reply(call: Call, number: int) -> PortalAction:
    return _desk(call).reply(number, call.body)


@router.route(
    TICKET + "/solve", "POST", auth="customer", summary="Mark solved", response=PortalAction
)
def solve(call: Call, number: int) -> PortalAction:
    return _desk(call).solve(number)


@router.route(
    TICKET + "/rating",
    "POST",
    auth="customer",
    summary="Rate a solved ticket (once)",
    body=Rating,
    response=PortalAction,
)
def rate(call: Call, number: int) -> PortalAction:
    return _desk(call).rate(number, call.body)


@router.route(
    TICKET + "/attachments/{message_id}/{index}",
    "GET",
    auth="customer",
    summary="A short-lived download link for an attachment",
    response=DownloadLink,
)
def attachment(call: Call, number: int, message_id: str, index: int) -> DownloadLink:
    return _desk(call).attachment(number, message_id, index)


@router.route(
    "/api/portal/uploads",
    "POST",
    auth="customer",
    summary="A pre-signed upload for one attachment",
    body=UploadRequest,
    response=UploadTicket,
    status=201,
)
def upload(call: Call) -> UploadTicket:
    return _desk(call).upload(call.body)
