"""Outbound mail as it leaves: threading headers, the reply token, Auto-Submitted, retries."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest
from botocore.exceptions import ClientError

from helpdesk.domain.models import DeliveryState, Direction, Message, MessageKind, Ticket
from helpdesk.exceptions import SendThrottledError
from helpdesk.mail.outbound import thread_headers
from helpdesk.mail.sender import OutboundSender, outbound_subject, render
from helpdesk.mail.threading import ticket_token
from helpdesk.settings import MailSettings

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
SETTINGS = MailSettings(mail_bucket="m", attachment_bucket="a", token_secret="s")
TICKET = Ticket(
    number=42,
    subject="Re: Fwd: printer\n on fire",
    requester="ada@customer.example",
    created_at=NOW,
    updated_at=NOW,
)


def _message(**fields: Any) -> Message:
    base: dict[str, Any] = {
        "ticket_number": 42,
        "id": "m1",
        "created_at": NOW,
        "direction": Direction.OUTBOUND,
        "author": "agent@example.com",
        "text": "We sent a new printer.",
        "message_id": "<out1@example.com>",
        "in_reply_to": "<in2@customer.example>",
        "references": ["<in1@customer.example>", "<in2@customer.example>"],
    }
    return Message(**{**base, **fields})


def _headers(raw: bytes) -> Any:
    return message_from_bytes(raw, policy=default)


def test_reply_carries_message_id_in_reply_to_and_references_for_mail_clients() -> None:
    mail = _headers(render(TICKET, _message(), SETTINGS, now=NOW))

    assert mail["Message-ID"] == "<out1@example.com>"
    assert mail["In-Reply-To"] == "<in2@customer.example>"
    assert mail["References"] == "<in1@customer.example> <in2@customer.example>"
    assert mail["To"] == "ada@customer.example"
    assert mail["From"] == "Support <support@example.com>"
    assert mail.get_content().strip() == "We sent a new printer."


def test_reply_address_and_subject_carry_the_ticket_token() -> None:
    mail = _headers(render(TICKET, _message(), SETTINGS, now=NOW))
    token = ticket_token(42, "s")

    assert mail["Reply-To"] == f"support+{token}@example.com"
    assert mail["Subject"] == f"Re: printer on fire [#{token}]"
    assert "Auto-Submitted" not in mail


def test_automatic_mail_is_marked_auto_submitted_and_suppresses_out_of_office() -> None:
    mail = _headers(
        render(
            TICKET,
            _message(kind=MessageKind.SYSTEM, auto_submitted="auto-replied"),
            SETTINGS,
            now=NOW,
        )
    )

    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"


def test_subject_keeps_one_tag_when_the_customer_kept_it() -> None:
    tagged = TICKET.model_copy(update={"subject": f"printer [#{ticket_token(42, 's')}]"})

    assert outbound_subject(tagged, SETTINGS).count("[#") == 1


def test_thread_headers_answer_the_newest_customer_mail_and_list_the_thread() -> None:
    inbound = [
        _message(
            id=f"i{i}",
            direction=Direction.INBOUND,
            message_id=f"<in{i}@c>",
            references=[],
            in_reply_to=None,
        )
        for i in (1, 2)
    ]
    note = _message(id="n", direction=Direction.INTERNAL, message_id="<note@x>")

    in_reply_to, references = thread_headers([inbound[0], note, inbound[1]])

    assert in_reply_to == "<in2@c>"
    assert references == ["<in1@c>", "<in2@c>"]


class _RecordingTickets:
    """Just enough of TicketRepository for the sender's error paths (no AWS involved)."""

    def __init__(self, message: Message) -> None:
        from helpdesk.data.tickets import Thread

        self.thread_value = Thread(ticket=TICKET, messages=[message])
        self.updates: list[Message] = []

    def thread(self, number: int) -> Any:
        return self.thread_value

    def update_message(self, message: Message) -> None:
        self.updates.append(message)


class _RefusingSes:
    """An SES client that answers every send with one error code (moto cannot throttle)."""

    def __init__(self, code: str, status: int) -> None:
        self._error = ClientError(
            {
                "Error": {"Code": code, "Message": code},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "SendEmail",
        )
        self.meta = type("Meta", (), {"region_name": "us-east-1"})()

    def send_email(self, **_: Any) -> dict[str, Any]:
        raise self._error


def _sender(code: str, status: int) -> tuple[OutboundSender, _RecordingTickets]:
    tickets = _RecordingTickets(_message(delivery_state=DeliveryState.QUEUED))
    return OutboundSender(tickets, _RefusingSes(code, status), SETTINGS), tickets  # type: ignore[arg-type]


def test_throttling_is_raised_for_a_retry_and_only_the_last_attempt_marks_it_failed() -> None:
    from helpdesk.mail.outbound import SendJob

    sender, tickets = _sender("TooManyRequestsException", 429)
    job = SendJob(ticket_number=42, message_id="<out1@example.com>")

    with pytest.raises(SendThrottledError):
        sender.send(job, now=NOW, attempt=1)
    assert tickets.updates == []
    with pytest.raises(SendThrottledError):
        sender.send(job, now=NOW, attempt=SETTINGS.max_send_attempts)
    assert [m.delivery_state for m in tickets.updates] == [DeliveryState.FAILED]


def test_a_permanent_refusal_marks_the_message_failed_without_retry() -> None:
    from helpdesk.mail.outbound import SendJob

    sender, tickets = _sender("MessageRejected", 400)

    state = sender.send(SendJob(ticket_number=42, message_id="<out1@example.com>"), now=NOW)

    assert state == DeliveryState.FAILED
    assert tickets.updates[0].delivery_detail == "SES refused the mail: MessageRejected"


def test_a_long_ses_message_id_is_kept_whole_not_encoded() -> None:
    long_id = "<gwyfpwuyvuhkqrxt-fdbbisng-xjah-hxhr-tyro-jlpxcqtjxmrn-cqvsks@email.amazonses.com>"

    raw = render(TICKET, _message(in_reply_to=long_id, references=[long_id]), SETTINGS, now=NOW)

    assert f"In-Reply-To: {long_id}\r\n".encode() in raw
    assert b"=?utf-8?" not in raw
