"""Inbound chat and messaging webhooks: signed, fresh, once; a message becomes a ticket or a
reply on the ticket its conversation already has."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from helpdesk.domain import transitions
from helpdesk.domain.models import (
    AuditEvent,
    Channel,
    Direction,
    Message,
    MessageKind,
    Status,
    Ticket,
)
from helpdesk.exceptions import ConflictError, UnauthorizedError, ValidationError
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import ChatMessage, ChatResult
from helpdesk.portal.services import sla

logger = logging.getLogger(__name__)

TIMESTAMP_HEADER = "x-helpdesk-timestamp"
SIGNATURE_HEADER = "x-helpdesk-signature"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a sender computes: sha256=<hex HMAC of "<ts>.<body>">."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(portal: Portal, headers: Any, body: bytes, *, source: str, now: datetime) -> None:
    """Refuse unsigned, wrongly signed, stale or replayed deliveries (UnauthorizedError) and
    floods (RateLimitedError)."""
    settings = portal.settings
    portal.store.hit(
        f"webhook:{source}", now=now, window_seconds=60, limit=settings.webhook_requests_per_minute
    )
    if not settings.webhook_secret:
        raise UnauthorizedError("webhooks are not enabled")
    timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    given = (headers.get(SIGNATURE_HEADER) or "").strip()
    if not timestamp.isdigit() or not given:
        raise UnauthorizedError("the delivery is not signed")
    if abs(now.timestamp() - int(timestamp)) > settings.webhook_max_age_seconds:
        raise UnauthorizedError("the delivery is too old")
    expected = signature(settings.webhook_secret, timestamp, body)
    if not hmac.compare_digest(given, expected):
        raise UnauthorizedError("the signature does not match")
    portal.store.remember_signature(
        expected.removeprefix("sha256="),
        expires_at=now + timedelta(seconds=2 * settings.webhook_max_age_seconds),
    )


def receive(portal: Portal, body: bytes, *, now: datetime) -> ChatResult:
    """Turn a verified chat message into a ticket or a reply; raises ValidationError naming a
    bad field."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError("the body is not valid JSON", field="body") from error
    chat = ChatMessage.model_validate(data)
    store = portal.store
    existing = store.conversation_ticket(chat.source, chat.conversation_id)
    if existing is not None and _append(portal, existing, chat, now=now):
        return ChatResult(ticket_number=existing, created=False)

    number = portal.tickets.next_number()
    if existing is None and not store.link_conversation(chat.source, chat.conversation_id, number):
        # Another delivery of the same conversation won the race: join its ticket.
        raced = store.conversation_ticket(chat.source, chat.conversation_id)
        if raced is not None and _append(portal, raced, chat, now=now):
            return ChatResult(ticket_number=raced, created=False)
    _create(portal, number, chat, now=now)
    if existing is not None:
        # The old ticket was closed: the conversation continues on the new one.
        store.relink_conversation(chat.source, chat.conversation_id, number)
    return ChatResult(ticket_number=number, created=True)


def _message(number: int, chat: ChatMessage, now: datetime) -> Message:
    return Message(
        ticket_number=number,
        id=uuid.uuid4().hex[:16],
        created_at=now,
        direction=Direction.INBOUND,
        kind=MessageKind.PUBLIC_REPLY,
        author=chat.sender.email,
        text=chat.text,
        visible_text=chat.text,
    )


def _create(portal: Portal, number: int, chat: ChatMessage, *, now: datetime) -> None:
    subject = chat.subject or (chat.text.strip().splitlines() or ["Chat"])[0][:120]
    ticket = Ticket(
        number=number,
        subject=subject,
        requester=chat.sender.email,
        requester_name=chat.sender.name,
        channel=Channel.CHAT,
        created_at=now,
        updated_at=now,
        tags=[chat.source] if chat.source != "chat" else [],
    )
    event = AuditEvent(
        ticket_number=number,
        at=now,
        actor=chat.sender.email,
        action="created",
        changes={"channel": Channel.CHAT.value, "source": chat.source},
    )
    message = _message(number, chat, now)
    ticket = sla.refreshed(portal, ticket, [message], [event], now=now, existing=False)
    portal.tickets.create(ticket, message, event)
    logger.info("chat ticket opened", extra={"ticket_number": number})


def _append(portal: Portal, number: int, chat: ChatMessage, *, now: datetime) -> bool:
    """Add the message to the ticket; False when the ticket is closed (start a new one)."""
    message = _message(number, chat, now)
    for _ in range(3):
        ticket = portal.tickets.get(number)
        if ticket.status == Status.CLOSED:
            return False
        events = [
            AuditEvent(
                ticket_number=number,
                at=now,
                actor=chat.sender.email,
                action="customer_replied",
                changes={"message": message.id},
            )
        ]
        after = ticket
        if ticket.status in (Status.SOLVED, Status.PENDING):
            after, event = transitions.change_status(
                ticket, Status.OPEN, now=now, actor=chat.sender.email
            )
            events.append(event)
        after = after.model_copy(update={"updated_at": now})
        after = sla.refreshed(portal, after, [message], events, now=now)
        try:
            portal.tickets.save(ticket, after, events, [message])
        except ConflictError:
            continue
        return True
    raise ConflictError("the ticket kept changing; deliver again")
