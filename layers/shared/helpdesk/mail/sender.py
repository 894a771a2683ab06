"""The sender: turns a queued outbound message into MIME and sends it through SES v2.

The mail threads in Gmail, Outlook and Apple Mail: it carries our own Message-ID, In-Reply-To
and References, keeps the ticket's subject with `Re:` and the ticket tag, and its Reply-To is
the ticket's plus-address. Automatic mail carries `Auto-Submitted` and asks Exchange not to
answer it (`X-Auto-Response-Suppress`).

SES replaces the Message-ID of what it sends with `<ses-id@region.amazonses.com>`; both ids are
kept in the threading index, so replies and bounces find the ticket by either.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import DeliveryState, Message, Ticket
from helpdesk.exceptions import NotFoundError, SendFailedError, SendThrottledError
from helpdesk.mail.outbound import SendJob, find_message, recipient_of
from helpdesk.mail.threading import reply_address, subject_tag
from helpdesk.settings import MailSettings

logger = logging.getLogger(__name__)

# Errors worth another try: SES or the network was busy, not the mail wrong.
TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
    }
)
# NOTE: the stdlib folds a header longer than max_line_length that has no space in it (a long
# Message-ID) into RFC 2047 encoded words, which no mail client reads as an id; RFC 5322's hard
# limit of 998 keeps ids whole.
_POLICY = SMTP.clone(max_line_length=998)
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|wg)\s*:\s*)+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def outbound_subject(ticket: Ticket, settings: MailSettings) -> str:
    """`Re: <subject> [#<token>]`: one line, the ticket tag once."""
    subject = _SPACE.sub(" ", ticket.subject).strip()
    subject = _REPLY_PREFIX.sub("", subject)
    tag = subject_tag(ticket.number, settings.token_secret)
    if tag.lower() not in subject.lower():
        subject = f"{subject} {tag}".strip()
    return f"Re: {subject}"


def render(
    ticket: Ticket,
    message: Message,
    settings: MailSettings,
    *,
    now: datetime,
    recipient: str | None = None,
) -> bytes:
    """The outbound message as raw MIME (CRLF line ends), ready for SES's Raw content.

    `recipient` is the To address; without one it is helpdesk.mail.outbound.recipient_of's
    choice, or the requester when that refuses every address.
    """
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = formataddr((settings.support_name, settings.support_address))
    mail["To"] = recipient or recipient_of(ticket, message, settings) or ticket.requester
    mail["Reply-To"] = reply_address(settings.support_address, ticket.number, settings.token_secret)
    mail["Subject"] = outbound_subject(ticket, settings)
    mail["Date"] = format_datetime(now)
    if message.message_id:
        mail["Message-ID"] = message.message_id
    if message.in_reply_to:
        mail["In-Reply-To"] = message.in_reply_to
    if message.references:
        mail["References"] = " ".join(message.references)
    if message.auto_submitted:
        mail["Auto-Submitted"] = message.auto_submitted
        mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Helpdesk-Ticket"] = str(ticket.number)
    mail.set_content(message.text or message.visible_text or "")
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    return mail.as_bytes()


def ses_message_id(ses_id: str, region: str) -> str:
    """The Message-ID header SES gives a mail it sent, from the id its API returned."""
    host = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{ses_id}@{host}>"


class OutboundSender:
    """Sends queued outbound messages. Takes the repository and an SES v2 client from the caller."""

    def __init__(self, tickets: TicketRepository, ses: Any, settings: MailSettings) -> None:
        self._tickets = tickets
        self._ses = ses
        self._settings = settings

    def send(self, job: SendJob, *, now: datetime, attempt: int = 1) -> DeliveryState | None:
        """Send one queued message; returns its new state, or None when there is nothing to send.

        A message already sent or bounced is not sent again (a redelivered job is harmless).
        A message with no deliverable recipient (see outbound.recipient_of) is marked `failed`
        without reaching SES.
        Raises SendThrottledError for a transient failure, so that the queue retries it; on the
        last allowed attempt the message is marked `failed` first, and the job then goes to the
        dead-letter queue. A permanent refusal marks the message `failed` and is not retried.
        """
        try:
            thread = self._tickets.thread(job.ticket_number)
        except NotFoundError:
            logger.warning(
                "send job for a missing ticket", extra={"ticket_number": job.ticket_number}
            )
            return None
        message = find_message(thread.messages, job.message_id)
        if message is None:
            logger.warning(
                "send job for a missing message", extra={"ticket_number": job.ticket_number}
            )
            return None
        if message.delivery_state in {DeliveryState.SENT, DeliveryState.BOUNCED}:
            logger.info("outbound mail already sent", extra={"ticket_number": job.ticket_number})
            return message.delivery_state

        recipient = recipient_of(thread.ticket, message, self._settings)
        if recipient is None:
            # An invalid address, or our own (a loop): never handed to SES, and not retried.
            self._mark(message, DeliveryState.FAILED, "no deliverable recipient address")
            logger.warning(
                "outbound mail not sent: no deliverable recipient",
                extra={"ticket_number": job.ticket_number},
            )
            return DeliveryState.FAILED
        raw = render(thread.ticket, message, self._settings, now=now, recipient=recipient)
        try:
            ses_id = self._submit(raw, recipient)
        except SendThrottledError as error:
            if attempt >= self._settings.max_send_attempts:
                self._mark(message, DeliveryState.FAILED, f"gave up after {attempt} attempts")
            logger.warning(
                "outbound mail deferred",
                extra={"ticket_number": job.ticket_number, "attempt": attempt, "error": str(error)},
            )
            raise
        except SendFailedError as error:
            self._mark(message, DeliveryState.FAILED, str(error))
            logger.warning(
                "outbound mail refused",
                extra={"ticket_number": job.ticket_number, "error": str(error)},
            )
            return DeliveryState.FAILED

        sent = self._mark(message, DeliveryState.SENT, None, provider_message_id=ses_id)
        region = str(getattr(self._ses.meta, "region_name", "") or "us-east-1")
        self._tickets.index_message_id(sent, ses_message_id(ses_id, region))
        logger.info("outbound mail sent", extra={"ticket_number": job.ticket_number})
        return DeliveryState.SENT

    def _submit(self, raw: bytes, recipient: str) -> str:
        try:
            response = self._ses.send_email(
                FromEmailAddress=self._settings.support_address,
                Destination={"ToAddresses": [recipient]},
                Content={"Raw": {"Data": raw}},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in TRANSIENT_CODES or status >= 500:
                raise SendThrottledError(f"SES deferred the mail: {code}") from error
            raise SendFailedError(f"SES refused the mail: {code}") from error
        except BotoCoreError as error:
            raise SendThrottledError("SES could not be reached") from error
        return str(response["MessageId"])

    def _mark(
        self,
        message: Message,
        state: DeliveryState,
        detail: str | None,
        *,
        provider_message_id: str | None = None,
    ) -> Message:
        update: dict[str, Any] = {"delivery_state": state, "delivery_detail": detail}
        if provider_message_id is not None:
            update["provider_message_id"] = provider_message_id
        changed = message.model_copy(update=update)
        self._tickets.update_message(changed)
        return changed


@cache
def default_sender() -> OutboundSender:
    """The sender with the real clients, built once per process from SenderSettings."""
    from helpdesk.data import clients
    from helpdesk.settings import sender_settings

    settings = sender_settings()
    return OutboundSender(
        TicketRepository(clients.table(settings.table)), clients.client("sesv2"), settings
    )
