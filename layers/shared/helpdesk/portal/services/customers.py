"""The customer portal: a customer's own tickets (and their organisation's where shared),
new tickets with uploaded attachments, replies, solving and rating.

Anything a customer may not see is reported as absent (404), never as forbidden, so that ids
and numbers reveal nothing.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data import keys
from helpdesk.domain import transitions
from helpdesk.domain.models import (
    Attachment,
    AuditEvent,
    Channel,
    Direction,
    Message,
    MessageKind,
    Status,
    Ticket,
)
from helpdesk.exceptions import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from helpdesk.portal.auth import CustomerPrincipal
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import (
    Branding,
    Category,
    CustomerReply,
    DownloadLink,
    NewTicket,
    PortalAction,
    PortalConfig,
    PortalDetail,
    PortalListQuery,
    PortalPage,
    Rating,
    UploadRequest,
    UploadTicket,
)
from helpdesk.portal.services import sla
from helpdesk.portal.services.desk import download_link
from helpdesk.portal.services.paging import merged_page
from helpdesk.portal.store import Upload
from helpdesk.portal.views import is_public, portal_message, portal_ticket

logger = logging.getLogger(__name__)

_SAVE_ATTEMPTS = 3
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def portal_config(portal: Portal) -> PortalConfig:
    """The brand name and colours an admin set, or the defaults."""
    try:
        branding = portal.config.get("branding", "default", Branding)
    except NotFoundError:
        branding = Branding()
    return PortalConfig(
        brand_name=branding.brand_name,
        primary_colour=branding.primary_colour,
        accent_colour=branding.accent_colour,
        logo_url=branding.logo_url,
    )


class CustomerDesk:
    """What one signed-in customer may do, at one instant."""

    def __init__(self, portal: Portal, customer: CustomerPrincipal, now: datetime) -> None:
        self._portal = portal
        self._customer = customer
        self._now = now

    # -- reads ----------------------------------------------------------------------------

    def tickets(self, query: PortalListQuery) -> PortalPage:
        """The customer's tickets, newest first; `organisation` scope adds the colleagues'
        tickets when the organisation shares them (and is refused otherwise)."""
        requesters = [self._customer.email]
        if query.scope == "organisation":
            if not self._customer.sees_organisation or self._customer.organisation is None:
                raise ValidationError("your organisation does not share tickets", field="scope")
            members = self._portal.store.members(self._customer.organisation.id)
            requesters = sorted({self._customer.email, *members})
        bound = f"customer:{self._customer.email}:{query.scope}:{query.limit}"
        positions = (
            self._portal.cursors.open(query.cursor, bound_to=bound) if query.cursor else None
        )
        merged = merged_page(
            self._portal.table,
            index=keys.INDEX_REQUESTER,
            partition_key="GSI1PK",
            sort_key="GSI1SK",
            partitions=[keys.requester_pk(email) for email in requesters],
            descending=True,
            accept=self._visible,
            limit=query.limit,
            positions=positions if isinstance(positions, dict) else None,
        )
        cursor = (
            self._portal.cursors.sign(merged.positions, bound_to=bound)
            if merged.positions
            else None
        )
        return PortalPage(tickets=[portal_ticket(t) for t in merged.tickets], cursor=cursor)

    def detail(self, number: int) -> PortalDetail:
        """The ticket and its public messages; raises NotFoundError when not theirs."""
        thread = self._portal.tickets.thread(number) if number > 0 else None
        if thread is None or not self._visible(thread.ticket):
            raise NotFoundError(f"ticket {number} does not exist")
        name = self._portal.settings.support_name
        return PortalDetail(
            ticket=portal_ticket(thread.ticket),
            messages=[portal_message(m, name) for m in thread.messages if is_public(m)],
        )

    def attachment(self, number: int, message_id: str, index: int) -> DownloadLink:
        thread = self._portal.tickets.thread(number)
        if not self._visible(thread.ticket):
            raise NotFoundError(f"ticket {number} does not exist")
        return download_link(self._portal, thread, message_id, index, public_only=True)

    # -- writes ---------------------------------------------------------------------------

    def open_ticket(self, request: NewTicket) -> PortalAction:
        """A new portal ticket with its first message and claimed uploads."""
        category = self._known_category(request.category)
        number = self._portal.tickets.next_number()
        attachments = self._claim(request.attachments, number)
        ticket = Ticket(
            number=number,
            subject=request.subject.strip(),
            requester=self._customer.email,
            channel=Channel.PORTAL,
            status=Status.OPEN,
            category=category,
            created_at=self._now,
            updated_at=self._now,
        )
        message = self._inbound(number, request.text, attachments)
        event = AuditEvent(
            ticket_number=number,
            at=self._now,
            actor=self._customer.email,
            action="created",
            changes={"channel": Channel.PORTAL.value},
        )
        ticket = sla.refreshed(
            self._portal, ticket, [message], [event], now=self._now, existing=False
        )
        stored = self._portal.tickets.create(ticket, message, event)
        if self._customer.organisation is not None:
            self._portal.store.add_member(self._customer.organisation.id, self._customer.email)
        logger.info("portal ticket opened", extra={"ticket_number": number})
        return PortalAction(
            ticket=portal_ticket(stored),
            message=portal_message(message, self._portal.settings.support_name),
        )

    def reply(self, number: int, request: CustomerReply) -> PortalAction:
        """A customer's reply; a solved ticket reopens, a closed one refuses."""
        self._readable(number)
        attachments = self._claim(request.attachments, number)
        message = self._inbound(number, request.text, attachments)

        def change(ticket: Ticket) -> tuple[Ticket, list[AuditEvent]]:
            if ticket.status == Status.CLOSED:
                raise ValidationError("this ticket is closed; please open a new one", field="text")
            events = [
                AuditEvent(
                    ticket_number=number,
                    at=self._now,
                    actor=self._customer.email,
                    action="customer_replied",
                    changes={"message": message.id},
                )
            ]
            if ticket.status in (Status.SOLVED, Status.PENDING):
                ticket, event = transitions.change_status(
                    ticket, Status.OPEN, now=self._now, actor=self._customer.email
                )
                events.append(event)
            return ticket.model_copy(update={"updated_at": self._now}), events

        stored = self._save(number, change, [message])
        return PortalAction(
            ticket=portal_ticket(stored),
            message=portal_message(message, self._portal.settings.support_name),
        )

    def solve(self, number: int) -> PortalAction:
        """Mark the ticket solved; raises IllegalTransitionError when it already is."""
        self._readable(number)

        def change(ticket: Ticket) -> tuple[Ticket, list[AuditEvent]]:
            after, event = transitions.change_status(
                ticket, Status.SOLVED, now=self._now, actor=self._customer.email
            )
            return after, [event]

        return PortalAction(ticket=portal_ticket(self._save(number, change, [])))

    def rate(self, number: int, rating: Rating) -> PortalAction:
        """Rate a solved or closed ticket once; a second rating is a ConflictError."""
        self._readable(number)

        def change(ticket: Ticket) -> tuple[Ticket, list[AuditEvent]]:
            if ticket.status not in (Status.SOLVED, Status.CLOSED):
                raise ValidationError("only a solved ticket can be rated", field="score")
            if ticket.csat is not None:
                raise ConflictError("this ticket was already rated")
            after, event = transitions.set_fields(
                ticket,
                now=self._now,
                actor=self._customer.email,
                action="rated",
                csat=rating.score,
                csat_comment=rating.comment.strip() or None,
            )
            return after, [event]

        return PortalAction(ticket=portal_ticket(self._save(number, change, [])))

    def upload(self, request: UploadRequest) -> UploadTicket:
        """A pre-signed S3 POST for one attachment, bound to this customer; raises
        ValidationError for a type not allowed and PayloadTooLargeError over the limit."""
        settings = self._portal.settings
        content_type = request.content_type.split(";")[0].strip().lower()
        if content_type not in settings.upload_types:
            raise ValidationError(f"files of type {content_type} are not accepted", "content_type")
        if request.size > settings.max_attachment_bytes:
            raise PayloadTooLargeError(
                f"files over {settings.max_attachment_bytes} bytes are refused"
            )
        filename = _safe_filename(request.filename)
        key = f"uploads/{secrets.token_urlsafe(18)}/{filename}"
        expires = self._now + timedelta(seconds=settings.upload_ttl_seconds)
        post = self._portal.client("s3").generate_presigned_post(
            Bucket=settings.attachment_bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, settings.max_attachment_bytes],
            ],
            ExpiresIn=settings.upload_ttl_seconds,
        )
        self._portal.store.put_upload(
            Upload(key, self._customer.email, filename, content_type, request.size, expires)
        )
        return UploadTicket(
            key=key,
            url=post["url"],
            fields={name: str(value) for name, value in post["fields"].items()},
            max_bytes=settings.max_attachment_bytes,
            expires_at=expires,
        )

    # -- steps ----------------------------------------------------------------------------

    def _visible(self, ticket: Ticket) -> bool:
        if ticket.requester == self._customer.email:
            return True
        organisation = self._customer.organisation
        if organisation is None or not organisation.shared_tickets:
            return False
        domain = ticket.requester.rpartition("@")[2]
        return domain in {d.lower() for d in organisation.domains}

    def _readable(self, number: int) -> Ticket:
        try:
            ticket = self._portal.tickets.get(number)
        except NotFoundError:
            ticket = None
        if ticket is None or not self._visible(ticket):
            raise NotFoundError(f"ticket {number} does not exist")
        return ticket

    def _save(self, number: int, change: Any, messages: list[Message]) -> Ticket:
        for _ in range(_SAVE_ATTEMPTS):
            before = self._readable(number)
            after, events = change(before)
            after = sla.refreshed(self._portal, after, messages, events, now=self._now)
            try:
                stored = self._portal.tickets.save(before, after, events, messages)
            except ConflictError:
                continue
            return stored
        raise ConflictError("the ticket kept changing; try again")

    def _inbound(self, number: int, text: str, attachments: list[Attachment]) -> Message:
        return Message(
            ticket_number=number,
            id=uuid.uuid4().hex[:16],
            created_at=self._now,
            direction=Direction.INBOUND,
            kind=MessageKind.PUBLIC_REPLY,
            author=self._customer.email,
            text=text,
            visible_text=text,
            attachments=attachments,
        )

    def _claim(self, upload_keys: list[str], number: int) -> list[Attachment]:
        """Check and claim each upload (issued to this customer, unused, present and within
        the limit), moving it under the ticket; raises ValidationError naming the key."""
        settings = self._portal.settings
        s3 = self._portal.client("s3")
        attachments: list[Attachment] = []
        for position, key in enumerate(dict.fromkeys(upload_keys)):
            field = f"attachments.{position}"
            upload = self._portal.store.get_upload(key)
            if upload is None or upload.email != self._customer.email:
                raise ValidationError("no such upload", field=field)
            if upload.ticket_number is not None:
                raise ValidationError("this upload is already attached", field=field)
            if upload.expires_at <= self._now - timedelta(days=1):
                raise ValidationError("this upload has expired", field=field)
            try:
                head = s3.head_object(Bucket=settings.attachment_bucket, Key=key)
            except ClientError as error:
                raise ValidationError("the file was not uploaded", field=field) from error
            size = int(head.get("ContentLength", 0))
            if size > settings.max_attachment_bytes:
                raise PayloadTooLargeError("the uploaded file is over the limit")
            try:
                self._portal.store.claim_upload(key, self._customer.email, number)
            except ConflictError as error:
                raise ValidationError("this upload is already attached", field=field) from error
            target = f"attachments/{number}/{uuid.uuid4().hex[:12]}/{upload.filename}"
            s3.copy_object(
                Bucket=settings.attachment_bucket,
                Key=target,
                CopySource={"Bucket": settings.attachment_bucket, "Key": key},
            )
            attachments.append(
                Attachment(
                    filename=upload.filename,
                    content_type=upload.content_type,
                    size=size,
                    key=target,
                )
            )
        return attachments

    def _known_category(self, category: str | None) -> str | None:
        if category is None:
            return None
        known = {item.id for item in self._portal.config.list("categories", Category)}
        if category not in known:
            raise ValidationError(f"there is no category {category}", field="category")
        return category


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", base).strip("._") or "file"
    return cleaned[:120]
