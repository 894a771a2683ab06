"""Outbound mail: queue an agent's reply or an acknowledgement, and mark bounced mail.

Queuing stores the message on its ticket as `queued`, with its own Message-ID (claimed in the
threading index) and the In-Reply-To and References of the thread, then puts a send job on
the outbound SQS queue. The sender (helpdesk.mail.sender) turns the job into mail and moves
the state to `sent` or `failed`; a bounce later moves it to `bounced`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data.keys import normalise_message_id
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Ticket,
)
from helpdesk.exceptions import ConflictError, NotFoundError, SendThrottledError
from helpdesk.mail.ratelimit import AutoMailLimiter
from helpdesk.settings import MailSettings

logger = logging.getLogger(__name__)

AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"
MAX_REFERENCES = 20
_SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class SendJob:
    """What travels on the outbound queue: which message of which ticket to send."""

    ticket_number: int
    message_id: str

    def to_json(self) -> str:
        return json.dumps({"ticket_number": self.ticket_number, "message_id": self.message_id})

    @classmethod
    def from_json(cls, body: str) -> SendJob:
        """Read a job; raises ValueError (or KeyError) for a body that is not one."""
        data = json.loads(body)
        return cls(ticket_number=int(data["ticket_number"]), message_id=str(data["message_id"]))


class OutboundQueue:
    """Puts send jobs on the SQS outbound queue. Takes a boto3 SQS client from the caller."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def put(self, job: SendJob) -> None:
        """Enqueue one job; raises SendThrottledError when SQS refuses it."""
        try:
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=job.to_json())
        except ClientError as error:
            raise SendThrottledError("the outbound queue refused the send job") from error


# One plain address: no spaces, commas, angle brackets or control characters, a dotted domain.
_ADDRESS = re.compile(r"^[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def is_own_address(address: str, settings: MailSettings) -> bool:
    """True when `address` is our support address, with or without a `+token` tag."""
    local, _, domain = settings.support_address.lower().partition("@")
    their_local, _, their_domain = address.strip().lower().partition("@")
    return their_domain == domain and their_local.split("+", 1)[0] == local


def is_deliverable(address: str | None, settings: MailSettings) -> bool:
    """True when `address` is one plain mail address that is not our own support address."""
    if not address or not _ADDRESS.match(address.strip()):
        return False
    return not is_own_address(address, settings)


def recipient_of(ticket: Ticket, message: Message, settings: MailSettings) -> str | None:
    """Where an outbound message goes, or None when it must not be sent at all.

    Automatic mail (acknowledgements, notices: `auto_submitted` is set) goes only to the
    requester, the From address of the mail that opened the ticket, never to a Reply-To
    someone else chose: otherwise any sender could make us mail a third party. An agent's
    reply respects the ticket's Reply-To, then falls back to the requester. An address that
    is not a plain mail address, or is our own support address (a loop), is never used.
    """
    if message.recipient is not None:
        # An internal notice goes to its own addressee or nowhere, never to the customer.
        return message.recipient.strip() if is_deliverable(message.recipient, settings) else None
    candidates = (
        [ticket.requester] if message.auto_submitted else [ticket.reply_to, ticket.requester]
    )
    for candidate in candidates:
        if is_deliverable(candidate, settings):
            assert candidate is not None
            return candidate.strip()
    return None


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID in our own domain, with angle brackets."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def thread_headers(messages: list[Message]) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for a new mail on a thread of `messages` (oldest first).

    In-Reply-To is the newest customer mail (or, without one, the newest mail of the thread);
    References lists the thread's mail ids oldest first, at most MAX_REFERENCES, keeping the
    first one as RFC 5322 suggests. Inbound mail kept as a note (an auto-reply, a third
    party's mail) is not part of the customer's thread and is left out.
    """
    mails = [
        message
        for message in messages
        if message.message_id
        and message.direction != Direction.INTERNAL
        and not (
            message.direction == Direction.INBOUND and message.kind != MessageKind.PUBLIC_REPLY
        )
    ]
    if not mails:
        return None, []
    inbound = [message for message in mails if message.direction == Direction.INBOUND]
    in_reply_to = (inbound or mails)[-1].message_id
    ids: list[str] = []
    for message in mails:
        for candidate in [*message.references, message.message_id]:
            if candidate and candidate not in ids:
                ids.append(candidate)
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return in_reply_to, ids


def build_outbound(
    ticket: Ticket,
    thread: list[Message],
    *,
    text: str,
    author: str,
    now: datetime,
    domain: str,
    kind: MessageKind = MessageKind.PUBLIC_REPLY,
    html: str | None = None,
    auto_submitted: str | None = None,
) -> Message:
    """A new outbound message on `ticket`, threaded after `thread`, in state `queued`."""
    in_reply_to, references = thread_headers(thread)
    return Message(
        ticket_number=ticket.number,
        id=uuid.uuid4().hex[:16],
        created_at=now,
        direction=Direction.OUTBOUND,
        kind=kind,
        author=author,
        text=text,
        visible_text=text,
        html=html,
        message_id=new_message_id(domain),
        in_reply_to=in_reply_to,
        references=references,
        delivery_state=DeliveryState.QUEUED,
        auto_submitted=auto_submitted,
    )


def queue_reply(
    tickets: TicketRepository,
    queue: OutboundQueue,
    settings: MailSettings,
    *,
    ticket_number: int,
    text: str,
    author: str,
    now: datetime,
    html: str | None = None,
) -> Message:
    """Queue an agent's public reply on a ticket for sending; returns the stored message.

    The message is stored as `queued` first, then the send job is put on the queue; if the
    queue refuses the job, the message is marked `failed` and SendThrottledError is raised.
    The ticket's status is left as it is (the caller decides, e.g. pending). Raises
    NotFoundError for an unknown ticket and ConflictError when the ticket kept changing.
    """
    return _queue(
        tickets,
        queue,
        settings,
        ticket_number=ticket_number,
        now=now,
        action="reply_queued",
        make=lambda ticket, thread: build_outbound(
            ticket,
            thread,
            text=text,
            author=author,
            now=now,
            domain=settings.mail_domain,
            html=html,
        ),
    )


def acknowledgement_text(ticket: Ticket) -> str:
    """The body of the acknowledgement a new ticket from email gets."""
    return (
        f"Thank you for writing to us. Your request has been received as ticket "
        f"#{ticket.number} ({ticket.subject or 'no subject'}).\n\n"
        "Reply to this mail to add to the ticket; please keep the ticket tag in the subject.\n"
    )


def queue_acknowledgement(
    tickets: TicketRepository,
    queue: OutboundQueue,
    settings: MailSettings,
    *,
    ticket_number: int,
    now: datetime,
) -> Message:
    """Queue the one acknowledgement of a new ticket (Auto-Submitted: auto-replied).

    Raises as queue_reply does.
    """
    return _queue(
        tickets,
        queue,
        settings,
        ticket_number=ticket_number,
        now=now,
        action="acknowledgement_queued",
        make=lambda ticket, thread: build_outbound(
            ticket,
            thread,
            text=acknowledgement_text(ticket),
            author=settings.support_address,
            now=now,
            domain=settings.mail_domain,
            kind=MessageKind.SYSTEM,
            auto_submitted=AUTO_REPLIED,
        ),
    )


def queue_notification(
    tickets: TicketRepository,
    queue: OutboundQueue,
    settings: MailSettings,
    limiter: AutoMailLimiter,
    *,
    ticket_number: int,
    text: str,
    now: datetime,
) -> Message | None:
    """Queue an automatic notice to a ticket's requester (Auto-Submitted: auto-generated).

    Automatic mail to one address is rate-limited: returns None, queuing nothing, when the
    address had its share this hour. Raises as queue_reply does.
    """
    ticket = tickets.get(ticket_number)
    if not limiter.allow(ticket.requester, now=now):
        return None
    return _queue(
        tickets,
        queue,
        settings,
        ticket_number=ticket_number,
        now=now,
        action="notification_queued",
        make=lambda ticket, thread: build_outbound(
            ticket,
            thread,
            text=text,
            author=settings.support_address,
            now=now,
            domain=settings.mail_domain,
            kind=MessageKind.SYSTEM,
            auto_submitted=AUTO_GENERATED,
        ),
    )


def queue_notice(
    tickets: TicketRepository,
    queue: OutboundQueue,
    settings: MailSettings,
    *,
    ticket_number: int,
    to: str,
    text: str,
    author: str,
    now: datetime,
) -> Message:
    """Queue an internal notice about a ticket to `to` (an agent or a manager, not the
    customer): an internal message marked `Auto-Submitted: auto-generated`, never part of the
    customer's thread. Raises as queue_reply does."""
    return _queue(
        tickets,
        queue,
        settings,
        ticket_number=ticket_number,
        now=now,
        action="notice_queued",
        make=lambda ticket, thread: build_outbound(
            ticket,
            thread,
            text=text,
            author=author,
            now=now,
            domain=settings.mail_domain,
            kind=MessageKind.SYSTEM,
            auto_submitted=AUTO_GENERATED,
        ).model_copy(
            update={
                "direction": Direction.INTERNAL,
                "recipient": to,
                "in_reply_to": None,
                "references": [],
            }
        ),
    )


def _queue(
    tickets: TicketRepository,
    queue: OutboundQueue,
    settings: MailSettings,
    *,
    ticket_number: int,
    now: datetime,
    action: str,
    make: Any,
) -> Message:
    message: Message | None = None
    for _ in range(_SAVE_ATTEMPTS):
        thread = tickets.thread(ticket_number)
        message = make(thread.ticket, thread.messages)
        event = AuditEvent(
            ticket_number=ticket_number,
            at=now,
            actor=message.author,
            action=action,
            changes={"message": message.id},
        )
        after = thread.ticket.model_copy(update={"updated_at": now})
        try:
            tickets.save(thread.ticket, after, [event], [message])
        except ConflictError:
            logger.debug("ticket changed while queuing mail; retrying")
            continue
        break
    else:
        raise ConflictError("the ticket kept changing; the mail was not queued")
    assert message is not None and message.message_id is not None

    try:
        queue.put(SendJob(ticket_number=ticket_number, message_id=message.message_id))
    except SendThrottledError:
        failed = message.model_copy(
            update={"delivery_state": DeliveryState.FAILED, "delivery_detail": "not queued"}
        )
        tickets.update_message(failed)
        raise
    logger.info("outbound mail queued", extra={"ticket_number": ticket_number, "action": action})
    return message


def find_message(messages: list[Message], message_id: str) -> Message | None:
    """The message whose own or SES-given Message-ID is `message_id`, or None."""
    wanted = normalise_message_id(message_id)
    local, _, host = wanted.partition("@")
    for message in messages:
        own = normalise_message_id(message.message_id or "")
        provider = normalise_message_id(message.provider_message_id or "")
        if wanted and wanted == own:
            return message
        # SES names a sent mail <ses-id@region.amazonses.com>; the API returned only ses-id.
        if provider and local == provider and host.endswith("amazonses.com"):
            return message
    return None


def mark_bounced(
    tickets: TicketRepository,
    bounced_message_ids: list[str],
    *,
    detail: str,
    failed_recipients: list[str] | None = None,
) -> list[Message]:
    """Mark the outbound messages a bounce reports on as `bounced`; returns those changed.

    Ids that are not ours, or that name an inbound message, are ignored. When the bounce
    names its failed recipients, a message is marked only if one of them is an address it
    can have gone to (the ticket's requester or Reply-To). The caller decides first whether
    the bounce is believable at all (see helpdesk.mail.ingest.believable_bounce).
    """
    failed = {address.strip().lower() for address in failed_recipients or [] if address}
    changed: list[Message] = []
    for message_id in bounced_message_ids:
        number = tickets.find_by_message_id(message_id)
        if number is None:
            continue
        try:
            thread = tickets.thread(number)
        except NotFoundError:
            continue
        message = find_message(thread.messages, message_id)
        if message is None or message.direction != Direction.OUTBOUND:
            continue
        sent_to = {
            address.strip().lower()
            for address in (thread.ticket.requester, thread.ticket.reply_to)
            if address
        }
        if failed and not failed & sent_to:
            logger.warning(
                "bounce names none of the message's recipients", extra={"ticket_number": number}
            )
            continue
        bounced = message.model_copy(
            update={"delivery_state": DeliveryState.BOUNCED, "delivery_detail": detail}
        )
        tickets.update_message(bounced)
        changed.append(bounced)
        logger.warning("outbound mail bounced", extra={"ticket_number": number})
    return changed
