"""Ingest: one received mail becomes a new ticket, a message on its ticket, or a logged rejection.

`decide` is the pure part: given the parsed mail, SES's verdicts and the ticket the mail threads
into (if any), it says what to do. `IngestService` does the rest in steps: read the raw mail,
parse, find the thread, decide, store attachments, write, acknowledge.

The raw mail is never deleted: it stays in the mail bucket where the S3 action put it (a mail
that arrived through the SNS action is stored there first), and every message points at it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from enum import StrEnum
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data.config import ConfigRepository
from helpdesk.data.keys import normalise_message_id
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    Attachment,
    AuditEvent,
    Channel,
    Direction,
    Message,
    MessageKind,
    SkippedAttachment,
    Status,
    Ticket,
)
from helpdesk.domain.transitions import reopen
from helpdesk.exceptions import (
    ConflictError,
    DuplicateDeliveryError,
    NotFoundError,
    RateLimitedError,
    RawMailMissingError,
    SendThrottledError,
)
from helpdesk.mail.events import Delivery, deliveries_from_event
from helpdesk.mail.model import Outcome, ParsedAttachment, ParsedMail
from helpdesk.mail.outbound import (
    OutboundQueue,
    is_own_address,
    mark_bounced,
    queue_acknowledgement,
)
from helpdesk.mail.ratelimit import AutoMailLimiter
from helpdesk.mail.threading import (
    ID_RULES,
    MatchRule,
    reference_ids,
    scan_tokens,
    thread_participants,
)
from helpdesk.settings import MailSettings

logger = logging.getLogger(__name__)

SUSPENDED_TEAM = "suspended"
_SAVE_ATTEMPTS = 3
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Action(StrEnum):
    NEW_TICKET = "new_ticket"
    JOIN = "join"
    REJECT = "reject"


class Disposition(StrEnum):
    """What became of one delivery: the value `helpdesk mail replay` and the logs report."""

    CREATED = "created"
    JOINED = "joined"
    FOLLOW_UP = "follow_up"
    SUSPENDED = "suspended"
    NOTED = "noted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Decision:
    """What to do with one mail, decided without any I/O."""

    action: Action
    reason: str = ""
    ticket_number: int | None = None
    rule: MatchRule | None = None
    reopen: bool = False
    suspend_reason: str | None = None
    follow_up_of: int | None = None
    acknowledge: bool = False
    as_note: bool = False
    third_party: bool = False


@dataclass(frozen=True)
class IngestResult:
    """The outcome of one delivery: a disposition, the ticket it touched and why."""

    disposition: Disposition
    outcome: Outcome
    reason: str = ""
    ticket_number: int | None = None
    message_id: str | None = None
    rule: MatchRule | None = None
    acknowledged: bool = False
    bounced: list[str] = field(default_factory=list)


def decide(
    mail: ParsedMail,
    *,
    failed_verdicts: list[str],
    match: Ticket | None,
    rule: MatchRule | None,
    settings: MailSettings,
    now: datetime,
    sender_in_thread: bool = True,
) -> Decision:
    """Decide what one parsed mail does to the desk.

    - parser rejections, bounces and abuse reports never open a ticket;
    - an auto-reply joins its ticket as a note (never reopening it), or is rejected;
    - a failed spam or virus verdict opens a suspended ticket, never acknowledged;
    - a mail from our own support address is refused (a loop);
    - no acknowledgement goes to a mailbox nobody reads (noreply@, mailer-daemon@, ...);
    - a mail threaded only by In-Reply-To or References from a sender who is not in the thread
      (`sender_in_thread` False, see threading.thread_participants) joins as a note from a
      third party: never a public reply, never reopening; to a closed ticket it opens a
      ticket of its own. A token match is trusted whoever sends it;
    - a reply to a solved ticket reopens it (if configured); to a closed one, it opens a new
      follow-up ticket;
    - anything else without a thread opens a new ticket, acknowledged if configured.
    `now` is the decision time; nothing here reads a clock.
    """
    del now  # NOTE: kept in the signature so time-based rules can join without a new API.
    if mail.outcome == Outcome.REJECTED:
        return Decision(Action.REJECT, reason=mail.reason or mail.error or "unreadable mail")
    if mail.outcome in {Outcome.BOUNCE, Outcome.ABUSE_REPORT}:
        return Decision(Action.REJECT, reason=mail.reason or mail.outcome.value)
    if mail.outcome == Outcome.AUTO_REPLY:
        if match is not None and match.status != Status.CLOSED and not failed_verdicts:
            return Decision(
                Action.JOIN, reason=mail.reason, ticket_number=match.number, rule=rule, as_note=True
            )
        return Decision(Action.REJECT, reason=mail.reason or "automatic reply")
    if not mail.requester:
        return Decision(Action.REJECT, reason="no sender address")
    if is_own_address(mail.requester, settings):
        return Decision(Action.REJECT, reason="mail from our own support address")

    acknowledge = (
        settings.send_acknowledgement
        and not mail.auto_submitted
        and not _is_unattended(mail.requester)
    )
    if failed_verdicts:
        reason = ", ".join(f"{name} verdict FAIL" for name in failed_verdicts)
        return Decision(Action.NEW_TICKET, reason=reason, suspend_reason=reason)
    if match is None:
        return Decision(Action.NEW_TICKET, reason="no thread", acknowledge=acknowledge)
    if rule in ID_RULES and not sender_in_thread:
        if match.status == Status.CLOSED:
            return Decision(Action.NEW_TICKET, reason="no thread", acknowledge=acknowledge)
        return Decision(
            Action.JOIN,
            reason="mail from a third party, threaded by message id",
            ticket_number=match.number,
            rule=rule,
            as_note=True,
            third_party=True,
        )
    if match.status == Status.CLOSED:
        return Decision(
            Action.NEW_TICKET,
            reason="reply to a closed ticket",
            follow_up_of=match.number,
            rule=rule,
            acknowledge=acknowledge,
        )
    return Decision(
        Action.JOIN,
        reason="reply",
        ticket_number=match.number,
        rule=rule,
        reopen=match.status == Status.SOLVED and settings.reopen_solved_on_reply,
    )


# Mailboxes that nobody reads: an acknowledgement to them is at best noise, at worst a loop.
_UNATTENDED = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|notifications?)([+._-]|$)"
)


def _is_unattended(address: str) -> bool:
    return bool(_UNATTENDED.match(address.lower().partition("@")[0]))


# Envelope senders of real delivery reports (RFC 3464 reports go out with a null sender).
_DAEMON_ENVELOPE = re.compile(r"^(mailer[-_]?daemon|postmaster)(\+.*)?$")


def believable_bounce(envelope_sender: str | None) -> bool:
    """True when a bounce's envelope sender is one a mail server uses for delivery reports:
    empty (`<>`) or a mailer-daemon or postmaster address. None (unknown) is not believable.

    A bounce that fails this is still rejected (never a ticket), but changes no message.
    """
    if envelope_sender is None:
        return False
    address = envelope_sender.strip().strip("<>").strip().lower()
    return not address or bool(_DAEMON_ENVELOPE.match(address.partition("@")[0]))


def envelope_sender(delivery: Delivery, raw: bytes) -> str | None:
    """The envelope sender: SES's `mail.source` when the event has it, else the address in
    the mail's Return-Path ("" for `<>`), else None."""
    if delivery.source is not None:
        return delivery.source
    head = BytesHeaderParser(policy=compat32).parsebytes(raw[:65_536], headersonly=True)
    value = head.get("Return-Path")
    if value is None:
        return None
    addresses = [address for _, address in getaddresses([str(value)]) if address]
    return addresses[0] if addresses else ""


def stable_message_id(mail: ParsedMail, raw: bytes) -> str:
    """The mail's Message-ID, or one made from a hash of its raw bytes when it has none."""
    if mail.message_id.strip():
        return mail.message_id.strip()
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:32]}@helpdesk.invalid>"


def scrub(mail: ParsedMail) -> ParsedMail:
    """The mail with every string made storable: lone surrogates (raw 8-bit bytes a lenient
    decoder passed through) become U+FFFD, so that JSON and DynamoDB accept them."""
    update: dict[str, Any] = {}
    for name, value in mail:
        if isinstance(value, str):
            update[name] = _text(value)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            update[name] = [_text(item) for item in value]
    update["attachments"] = [
        part.model_copy(
            update={
                "filename": _text(part.filename),
                "content_type": _text(part.content_type),
                "content_id": _text(part.content_id) if part.content_id else None,
            }
        )
        for part in mail.attachments
    ]
    return mail.model_copy(update=update)


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "replace")
    return value


def derived_message_id(message_id: str, mail: ParsedMail) -> str:
    """The id a different mail that reuses an already stored Message-ID is kept under."""
    names = "\n".join(sorted(part.filename for part in mail.attachments))
    digest = hashlib.sha256(f"{mail.requester}\n{mail.text}\n{names}".encode()).hexdigest()[:16]
    return f"<{digest}.{normalise_message_id(message_id)}>"


def same_content(stored: Message, mail: ParsedMail) -> bool:
    """True when a stored message is this mail again (a redelivery, or one copy per address
    of ours it was sent to), not another mail that reuses its Message-ID: same sender, same
    text, same attachment names."""
    stored_names = sorted(
        [a.filename for a in stored.attachments] + [s.filename for s in stored.skipped]
    )
    return (
        stored.author == (mail.requester or "")
        and stored.text == mail.text
        and stored_names == sorted(part.filename for part in mail.attachments)
    )


class AttachmentStore:
    """Stores attachments under unguessable keys, by a size and count policy.

    Takes a boto3 S3 client and the attachment bucket from the caller.
    """

    def __init__(self, s3: Any, bucket: str, *, max_bytes: int, max_count: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._max_bytes = max_bytes
        self._max_count = max_count

    def store(
        self, ticket_number: int, parts: list[ParsedAttachment]
    ) -> tuple[list[Attachment], list[SkippedAttachment]]:
        """Upload what the policy allows; returns the stored attachments and the skipped ones
        with the reason each was skipped (too large, too many, empty)."""
        stored: list[Attachment] = []
        skipped: list[SkippedAttachment] = []
        for part in parts:
            size = part.size or len(part.payload)
            reason = self._refusal(size, len(part.payload), len(stored))
            if reason:
                skipped.append(
                    SkippedAttachment(
                        filename=part.filename,
                        content_type=part.content_type,
                        size=size,
                        reason=reason,
                    )
                )
                continue
            key = f"attachments/{ticket_number}/{secrets.token_urlsafe(18)}/{_safe(part.filename)}"
            # upload_fileobj switches to a multipart upload for large parts.
            self._s3.upload_fileobj(
                io.BytesIO(part.payload),
                self._bucket,
                key,
                ExtraArgs={"ContentType": part.content_type or "application/octet-stream"},
            )
            stored.append(
                Attachment(
                    filename=part.filename,
                    content_type=part.content_type,
                    size=len(part.payload),
                    key=key,
                    inline=part.inline,
                    content_id=part.content_id,
                )
            )
        return stored, skipped

    def _refusal(self, size: int, payload: int, count: int) -> str | None:
        if max(size, payload) > self._max_bytes:
            return f"larger than {self._max_bytes} bytes"
        if payload == 0:
            return "empty"
        if count >= self._max_count:
            return f"more than {self._max_count} attachments"
        return None


def _safe(filename: str) -> str:
    cleaned = _UNSAFE_NAME.sub("_", filename).strip("._")[:100]
    return cleaned or "attachment"


Parser = Callable[..., ParsedMail]


class IngestService:
    """Turns deliveries into tickets and messages. Takes its repositories and clients from
    the caller; `parse` is helpdesk.mail.parse.parse_mail unless given."""

    def __init__(
        self,
        *,
        tickets: TicketRepository,
        s3: Any,
        attachments: AttachmentStore,
        limiter: AutoMailLimiter,
        outbound: OutboundQueue | None,
        settings: MailSettings,
        parse: Parser | None = None,
        config: ConfigRepository | None = None,
    ) -> None:
        if parse is None:
            from helpdesk.mail.parse import parse_mail

            parse = parse_mail
        self._tickets = tickets
        self._s3 = s3
        self._attachments = attachments
        self._limiter = limiter
        self._outbound = outbound
        self._settings = settings
        self._parse = parse
        self._config = config

    @property
    def settings(self) -> MailSettings:
        return self._settings

    # -- the steps ------------------------------------------------------------------------

    def handle(self, delivery: Delivery, *, now: datetime) -> IngestResult:
        """Process one delivery; returns what became of it.

        A second delivery of the same mail is a success that changes nothing. Raises
        RawMailMissingError when the raw mail is not in the bucket (so SES's retry or the
        dead-letter queue keeps the event), and ConflictError when the ticket kept changing.
        """
        received_at = delivery.received_at or now
        raw, source_key = self._raw(delivery)
        mail = scrub(self._parse(raw, received_at=received_at))
        message_id = stable_message_id(mail, raw)

        if mail.outcome == Outcome.BOUNCE:
            return self._bounce(delivery, raw, mail, message_id)
        message_id, redelivered = self._identity(mail, message_id)
        if redelivered:
            return self._duplicate(mail, message_id)

        match, rule = self._thread(delivery, mail)
        decision = decide(
            mail,
            failed_verdicts=delivery.failed_verdicts,
            match=match,
            rule=rule,
            settings=self._settings,
            now=now,
            sender_in_thread=self._in_thread(match, rule, mail),
        )
        if decision.action == Action.REJECT:
            return self._rejected(mail, message_id, reason=decision.reason)
        try:
            if decision.action == Action.JOIN:
                assert decision.ticket_number is not None
                result = self._join(decision, mail, message_id, delivery, source_key, received_at)
            else:
                result = self._open(decision, mail, message_id, delivery, source_key, received_at)
        except DuplicateDeliveryError:
            return self._duplicate(mail, message_id)

        if decision.acknowledge and result.ticket_number is not None:
            result = self._acknowledge(result, mail, now=now)
        return result

    def _bounce(
        self, delivery: Delivery, raw: bytes, mail: ParsedMail, message_id: str
    ) -> IngestResult:
        """Reject a bounce; mark the outbound mail it names bounced only when it is believable."""
        if not believable_bounce(envelope_sender(delivery, raw)):
            logger.warning("bounce not believed: envelope sender is not a mail server")
            return self._rejected(
                mail, message_id, reason=f"{mail.reason or 'bounce'} (unverified)"
            )
        bounced = mark_bounced(
            self._tickets,
            mail.bounced_message_ids,
            detail=mail.reason or "bounced",
            failed_recipients=mail.bounced_recipients,
        )
        return self._rejected(mail, message_id, bounced=[m.id for m in bounced])

    def _in_thread(self, match: Ticket | None, rule: MatchRule | None, mail: ParsedMail) -> bool:
        """Whether the sender took part in the matched ticket's thread; only asked when the
        match rests on a Message-ID, since a token match is trusted whoever sends it."""
        if match is None or rule not in ID_RULES or not mail.requester:
            return True
        try:
            messages = self._tickets.thread(match.number).messages
        except NotFoundError:
            return False
        return mail.requester.strip().lower() in thread_participants(match, messages)

    def _identity(self, mail: ParsedMail, message_id: str) -> tuple[str, bool]:
        """The id to store the mail under, and whether it is a redelivery of a stored mail.

        A mail whose Message-ID is stored with other content is another mail (some senders
        reuse ids): it is kept under a derived id instead of being dropped as a duplicate.
        """
        derived = derived_message_id(message_id, mail)
        for candidate in (message_id, derived):
            number = self._tickets.find_by_message_id(candidate)
            if number is None:
                return candidate, False
            stored = self._stored_message(number, candidate)
            if stored is None or same_content(stored, mail):
                return candidate, True
        return derived, True

    def _stored_message(self, number: int, message_id: str) -> Message | None:
        try:
            thread = self._tickets.thread(number)
        except NotFoundError:
            return None
        wanted = normalise_message_id(message_id)
        for message in thread.messages:
            if normalise_message_id(message.message_id or "") == wanted:
                return message
        return None

    def _raw(self, delivery: Delivery) -> tuple[bytes, str]:
        bucket = delivery.bucket or self._settings.mail_bucket
        key = delivery.key or f"{self._settings.mail_prefix}{delivery.ses_message_id}"
        if delivery.content is not None:
            # The SNS action carries the mail itself; keep a copy where the S3 action would.
            self._s3.put_object(Bucket=bucket, Key=key, Body=delivery.content)
            return delivery.content, key
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NoSuchBucket"}:
                raise RawMailMissingError("the raw mail is not in the mail bucket") from error
            raise
        return response["Body"].read(), key

    def _thread(
        self, delivery: Delivery, mail: ParsedMail
    ) -> tuple[Ticket | None, MatchRule | None]:
        recipients = [*delivery.recipients, *mail.to, *mail.cc]
        scan = scan_tokens(recipients, mail.subject, self._settings.token_secret)
        if scan.forged:
            logger.warning("forged ticket token ignored", extra={"count": scan.forged})
        for token in scan.matches:
            ticket = self._ticket(token.number)
            if ticket is not None:
                return ticket, token.rule
        for message_id, rule in reference_ids(mail.in_reply_to, mail.references):
            number = self._tickets.find_by_message_id(message_id)
            if number is not None:
                ticket = self._ticket(number)
                if ticket is not None:
                    return ticket, rule
        return None, None

    def _ticket(self, number: int) -> Ticket | None:
        try:
            return self._tickets.get(number)
        except NotFoundError:
            return None

    def _message(
        self,
        number: int,
        mail: ParsedMail,
        message_id: str,
        delivery: Delivery,
        source_key: str,
        received_at: datetime,
        *,
        kind: MessageKind = MessageKind.PUBLIC_REPLY,
    ) -> Message:
        stored, skipped = self._attachments.store(number, mail.attachments)
        return Message(
            ticket_number=number,
            id=hashlib.sha256(message_id.encode()).hexdigest()[:16],
            created_at=received_at,
            direction=Direction.INBOUND,
            kind=kind,
            author=mail.requester or "",
            text=mail.text,
            visible_text=mail.visible_text,
            html=mail.html,
            attachments=stored,
            skipped=skipped,
            message_id=message_id,
            in_reply_to=mail.in_reply_to,
            references=list(mail.references),
            verdicts=dict(delivery.verdicts),
            source_key=source_key,
        )

    def _open(
        self,
        decision: Decision,
        mail: ParsedMail,
        message_id: str,
        delivery: Delivery,
        source_key: str,
        received_at: datetime,
    ) -> IngestResult:
        assert mail.requester is not None
        number = self._tickets.next_number()
        suspended = decision.suspend_reason is not None
        ticket = Ticket(
            number=number,
            subject=mail.subject,
            requester=mail.requester,
            requester_name=mail.requester_name,
            reply_to=mail.reply_to,
            team=SUSPENDED_TEAM if suspended else None,
            channel=Channel.EMAIL,
            tags=["follow_up"] if decision.follow_up_of else [],
            created_at=received_at,
            updated_at=received_at,
            suspended=suspended,
            suspended_reason=decision.suspend_reason,
        )
        message = self._message(number, mail, message_id, delivery, source_key, received_at)
        changes: dict[str, Any] = {"channel": Channel.EMAIL.value}
        if decision.follow_up_of:
            changes["follow_up_of"] = decision.follow_up_of
        if suspended:
            changes["suspended"] = decision.suspend_reason
        event = AuditEvent(
            ticket_number=number,
            at=received_at,
            actor=mail.requester,
            action="created",
            changes=changes,
        )
        if not suspended:
            ticket = self._refresh(ticket, [message], [event], now=received_at, existing=False)
        self._tickets.create(ticket, message, event)
        disposition = (
            Disposition.SUSPENDED
            if suspended
            else Disposition.FOLLOW_UP
            if decision.follow_up_of
            else Disposition.CREATED
        )
        logger.info(
            "ticket opened from mail",
            extra={"ticket_number": number, "disposition": disposition.value},
        )
        return IngestResult(
            disposition=disposition,
            outcome=mail.outcome,
            reason=decision.reason,
            ticket_number=number,
            message_id=message_id,
            rule=decision.rule,
        )

    def _join(
        self,
        decision: Decision,
        mail: ParsedMail,
        message_id: str,
        delivery: Delivery,
        source_key: str,
        received_at: datetime,
    ) -> IngestResult:
        assert decision.ticket_number is not None
        number = decision.ticket_number
        kind = MessageKind.SYSTEM if decision.as_note else MessageKind.PUBLIC_REPLY
        message = self._message(
            number, mail, message_id, delivery, source_key, received_at, kind=kind
        )
        actor = mail.requester or "mail"
        for _ in range(_SAVE_ATTEMPTS):
            before = self._tickets.get(number)
            after, events = before.model_copy(update={"updated_at": received_at}), []
            if decision.reopen and before.status == Status.SOLVED:
                after, reopened = reopen(before, now=received_at, actor=actor)
                events.append(reopened)
            if decision.third_party:
                events.append(_third_party_event(number, message, decision, received_at))
            elif not before.suspended:
                after = self._refresh(after, [message], events, now=received_at)
            try:
                self._tickets.save(before, after, events, [message])
            except ConflictError:
                logger.debug("ticket changed while joining mail; retrying")
                continue
            break
        else:
            raise ConflictError("the ticket kept changing; the mail was not joined")
        disposition = Disposition.NOTED if decision.as_note else Disposition.JOINED
        logger.info(
            "mail joined its ticket",
            extra={
                "ticket_number": number,
                "rule": decision.rule.value if decision.rule else None,
                "reopened": decision.reopen and bool(events),
                "third_party": decision.third_party,
            },
        )
        return IngestResult(
            disposition=disposition,
            outcome=mail.outcome,
            reason=decision.reason,
            ticket_number=number,
            message_id=message_id,
            rule=decision.rule,
        )

    def _refresh(
        self,
        ticket: Ticket,
        messages: list[Message],
        events: list[AuditEvent],
        *,
        now: datetime,
        existing: bool = True,
    ) -> Ticket:
        """The ticket with its SLA clocks recomputed, when a configuration is at hand."""
        if self._config is None:
            return ticket
        from helpdesk.sla.hook import refreshed

        return refreshed(
            self._tickets, self._config, ticket, messages, events, now=now, existing=existing
        )

    def _acknowledge(
        self, result: IngestResult, mail: ParsedMail, *, now: datetime
    ) -> IngestResult:
        assert result.ticket_number is not None and mail.requester is not None
        if self._outbound is None:
            logger.debug("no outbound queue; acknowledgement not sent")
            return result
        # Automatic mail goes to the From address only, never to a Reply-To (see
        # outbound.recipient_of), so that is the address it is counted against.
        if not self._limiter.allow(mail.requester, now=now):
            logger.warning(
                "acknowledgement not sent",
                extra={"ticket_number": result.ticket_number, "reason": RateLimitedError.__name__},
            )
            return result
        try:
            queue_acknowledgement(
                self._tickets,
                self._outbound,
                self._settings,
                ticket_number=result.ticket_number,
                now=now,
            )
        except SendThrottledError:
            logger.exception(
                "acknowledgement not queued", extra={"ticket_number": result.ticket_number}
            )
            return result
        return IngestResult(**{**result.__dict__, "acknowledged": True})

    def _rejected(
        self,
        mail: ParsedMail,
        message_id: str,
        *,
        reason: str | None = None,
        bounced: list[str] | None = None,
    ) -> IngestResult:
        reason = reason or mail.reason or mail.error or mail.outcome.value
        logger.warning(
            "mail not turned into a message",
            extra={"outcome": mail.outcome.value, "reason": reason, "bounced": len(bounced or [])},
        )
        return IngestResult(
            disposition=Disposition.REJECTED,
            outcome=mail.outcome,
            reason=reason,
            message_id=message_id,
            bounced=bounced or [],
        )

    def _duplicate(self, mail: ParsedMail, message_id: str) -> IngestResult:
        number = self._tickets.find_by_message_id(message_id)
        logger.warning("duplicate delivery ignored", extra={"ticket_number": number})
        return IngestResult(
            disposition=Disposition.DUPLICATE,
            outcome=mail.outcome,
            reason="already stored",
            ticket_number=number,
            message_id=message_id,
        )


def _third_party_event(
    number: int, message: Message, decision: Decision, at: datetime
) -> AuditEvent:
    return AuditEvent(
        ticket_number=number,
        at=at,
        actor=message.author or "mail",
        action="third_party_mail_noted",
        changes={
            "message": message.id,
            "rule": decision.rule.value if decision.rule else None,
        },
    )


# -- wiring for the function --------------------------------------------------------------


@cache
def default_service() -> IngestService:
    """The service with the real clients, built once per process from IngestSettings."""
    from helpdesk.data import clients
    from helpdesk.settings import ingest_settings

    settings = ingest_settings()
    table = clients.table(settings.table)
    s3 = clients.client("s3")
    return IngestService(
        tickets=TicketRepository(table),
        s3=s3,
        attachments=AttachmentStore(
            s3,
            settings.attachment_bucket,
            max_bytes=settings.max_attachment_bytes,
            max_count=settings.max_attachments,
        ),
        limiter=AutoMailLimiter(table, settings.auto_reply_limit_per_hour),
        outbound=(
            OutboundQueue(clients.client("sqs"), settings.outbound_queue)
            if settings.outbound_queue
            else None
        ),
        settings=settings,
        config=ConfigRepository(table),
    )


def ingest_event(
    event: Any, *, now: datetime, service: IngestService | None = None
) -> list[IngestResult]:
    """Process every mail of an SES Lambda-action or SNS-action event; returns one result each.

    Raises UnsupportedEventError for another shape, and what IngestService.handle raises.
    """
    service = service or default_service()
    settings = service.settings
    deliveries = deliveries_from_event(
        event, bucket=settings.mail_bucket, prefix=settings.mail_prefix
    )
    return [service.handle(delivery, now=now) for delivery in deliveries]
