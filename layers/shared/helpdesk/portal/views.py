"""How tickets and messages are shown: to agents in full, to customers without internals.

Stored HTML is never trusted: every message's markup is sanitised again on the way out.
"""

from __future__ import annotations

from datetime import datetime

from helpdesk.domain.models import Direction, Message, MessageKind, StatusCategory, Ticket
from helpdesk.mail.html import sanitise_html
from helpdesk.portal.schemas import (
    EventView,
    MessageView,
    PortalMessage,
    PortalTicket,
    SlaStateName,
    TicketSummary,
    TicketView,
)


def next_due(ticket: Ticket) -> datetime | None:
    """The nearest deadline of a clock that has not been met, or None."""
    dues = [
        clock.due
        for clock in (ticket.sla.first_response, ticket.sla.next_response, ticket.sla.resolution)
        if clock.due is not None and clock.met_at is None
    ]
    return min(dues) if dues else None


def sla_state(ticket: Ticket, now: datetime) -> SlaStateName:
    """ok, warning, breached, paused or none, as the queue's SLA filter reads it."""
    if ticket.status.category == StatusCategory.CLOSED:
        return "none"
    if ticket.status.pauses_sla:
        return "paused"
    clocks = [
        clock
        for clock in (ticket.sla.first_response, ticket.sla.next_response, ticket.sla.resolution)
        if clock.due is not None and clock.met_at is None
    ]
    if not clocks:
        return "none"
    if any(clock.breached_at is not None or clock.due <= now for clock in clocks if clock.due):
        return "breached"
    if any(
        clock.warned_at is not None or (clock.warn_at is not None and clock.warn_at <= now)
        for clock in clocks
    ):
        return "warning"
    return "ok"


def summary(ticket: Ticket, now: datetime) -> TicketSummary:
    return TicketSummary(
        number=ticket.number,
        subject=ticket.subject,
        requester=ticket.requester,
        requester_name=ticket.requester_name,
        status=ticket.status,
        priority=ticket.priority,
        team=ticket.team,
        assignee=ticket.assignee,
        category=ticket.category,
        channel=ticket.channel,
        tags=list(ticket.tags),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        due=next_due(ticket),
        sla_state=sla_state(ticket, now),
        duplicate_of=ticket.duplicate_of,
        incident_of=ticket.incident_of,
        version=ticket.version,
    )


def ticket_view(ticket: Ticket, now: datetime) -> TicketView:
    return TicketView(
        number=ticket.number,
        subject=ticket.subject,
        requester=ticket.requester,
        requester_name=ticket.requester_name,
        status=ticket.status,
        priority=ticket.priority,
        team=ticket.team,
        assignee=ticket.assignee,
        category=ticket.category,
        channel=ticket.channel,
        tags=list(ticket.tags),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        solved_at=ticket.solved_at,
        due=next_due(ticket),
        sla_state=sla_state(ticket, now),
        sla=ticket.sla.model_dump(mode="json"),
        triage=ticket.triage.model_dump(mode="json") if ticket.triage else None,
        duplicate_of=ticket.duplicate_of,
        incident_of=ticket.incident_of,
        incident_children=list(ticket.incident_children),
        csat=ticket.csat,
        csat_comment=ticket.csat_comment,
        version=ticket.version,
    )


def safe_html(markup: str | None) -> str | None:
    """Sanitised markup, or None; stored HTML is treated as hostile every time."""
    return sanitise_html(markup) if markup else None


def message_view(message: Message) -> MessageView:
    return MessageView(
        id=message.id,
        created_at=message.created_at,
        direction=message.direction,
        kind=message.kind,
        author=message.author,
        text=message.visible_text or message.text,
        html=safe_html(message.html),
        attachments=list(message.attachments),
        skipped=list(message.skipped),
        full_text=message.text,
        delivery_state=message.delivery_state,
        ai_generated=message.ai_generated,
    )


def event_view(event: object) -> EventView:
    return EventView.model_validate(event, from_attributes=True)


def is_public(message: Message) -> bool:
    """Whether a customer may see the message: public replies in or out, never notes."""
    return message.kind == MessageKind.PUBLIC_REPLY and message.direction != Direction.INTERNAL


def portal_ticket(ticket: Ticket) -> PortalTicket:
    return PortalTicket(
        number=ticket.number,
        subject=ticket.subject,
        requester=ticket.requester,
        status=ticket.status,
        channel=ticket.channel,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        solved_at=ticket.solved_at,
        csat=ticket.csat,
        csat_comment=ticket.csat_comment,
    )


def portal_message(message: Message, support_name: str) -> PortalMessage:
    from_customer = message.direction == Direction.INBOUND
    return PortalMessage(
        id=message.id,
        created_at=message.created_at,
        from_customer=from_customer,
        author_name=message.author if from_customer else support_name,
        text=message.visible_text or message.text,
        html=safe_html(message.html),
        attachments=[
            attachment.model_copy(update={"key": None}) for attachment in message.attachments
        ],
    )
