"""Mail out against moto: queued replies and acknowledgements sent through SES v2, bounces."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.policy import default
from typing import Any

import pytest

from helpdesk.domain.models import DeliveryState, Direction, Message, MessageKind
from helpdesk.mail.ingest import AttachmentStore, IngestService
from helpdesk.mail.model import Outcome, ParsedMail
from helpdesk.mail.outbound import OutboundQueue, SendJob, queue_reply
from helpdesk.mail.ratelimit import AutoMailLimiter
from helpdesk.mail.sender import ses_message_id
from helpdesk.mail.threading import ticket_token
from helpdesk.settings import ingest_settings
from helpdesk_tools.ingest_desk import FakeLambdaContext, LocalIngestDesk, sent_mail

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
MailBuilder = Callable[..., bytes]


def _open(desk: LocalIngestDesk, mail: MailBuilder) -> int:
    (result,) = desk.deliver(mail(), received_at=NOW)
    return int(result["ticket_number"])


def _outbound(desk: LocalIngestDesk, number: int) -> list[Message]:
    return [m for m in desk.tickets.thread(number).messages if m.direction == Direction.OUTBOUND]


def _queue(desk: LocalIngestDesk) -> OutboundQueue:
    return OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"])


def _sent(moto_endpoint: str, messages: list[Message]) -> list[Any]:
    ids = {m.provider_message_id for m in messages if m.provider_message_id}
    return [
        message_from_string(item["raw_data"], policy=default)
        for item in sent_mail(moto_endpoint, ids)
    ]


def test_acknowledgement_leaves_through_ses_marked_auto_replied_with_the_ticket_number(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    number = _open(desk, mail)

    assert desk.drain_outbound() == 1

    (ack,) = _outbound(desk, number)
    assert ack.delivery_state == DeliveryState.SENT
    (sent,) = _sent(moto_endpoint, [ack])
    assert sent["To"] == "ada@customer.example"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == "<first@customer.example>"
    assert f"#{number}" in sent.get_content()


def test_agent_reply_is_queued_then_sent_with_threading_headers_and_the_reply_token(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    number = _open(desk, mail)
    desk.drain_outbound()

    queued = queue_reply(
        desk.tickets,
        _queue(desk),
        ingest_settings(),
        ticket_number=number,
        text="We are sending a technician.",
        author="agent@example.com",
        now=LATER,
    )
    assert queued.delivery_state == DeliveryState.QUEUED
    assert desk.drain_outbound() == 1

    reply = next(m for m in _outbound(desk, number) if m.kind == MessageKind.PUBLIC_REPLY)
    assert reply.delivery_state == DeliveryState.SENT
    (sent,) = _sent(moto_endpoint, [reply])
    token = ticket_token(number, ingest_settings().token_secret)
    assert sent["Message-ID"] == queued.message_id
    assert sent["Message-ID"].endswith("@example.com>")
    assert sent["In-Reply-To"] == "<first@customer.example>"
    assert "<first@customer.example>" in sent["References"]
    assert sent["Reply-To"] == f"support+{token}@example.com"
    assert sent["Subject"] == f"Re: The printer is on fire [#{token}]"
    assert "Auto-Submitted" not in sent
    assert "We are sending a technician." in sent.get_content()


def test_customer_answer_to_our_reply_joins_the_ticket_by_the_id_ses_gave_it(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open(desk, mail)
    desk.drain_outbound()
    (ack,) = _outbound(desk, number)
    assert ack.provider_message_id is not None
    ses_id = ses_message_id(ack.provider_message_id, "us-east-1")

    (result,) = desk.deliver(
        mail(subject="thanks", message_id="<thanks@customer.example>", in_reply_to=ses_id),
        received_at=LATER,
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)


def test_a_reply_that_ses_refuses_is_visible_as_failed(
    desk: LocalIngestDesk, mail: MailBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = _open(desk, mail)
    # moto's SES identities are shared by every endpoint in this process (local desks started
    # by other tests verify support@example.com too): remove every one that would allow it.
    ses = desk.session.client("ses")
    for identity in ses.list_identities()["Identities"]:
        if identity.endswith("example.com"):
            ses.delete_identity(Identity=identity)

    desk.drain_outbound()

    (ack,) = _outbound(desk, number)
    assert ack.delivery_state == DeliveryState.FAILED
    assert ack.delivery_detail == "SES refused the mail: MessageRejected"


def test_a_bad_job_fails_alone_and_the_rest_of_the_batch_is_sent(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open(desk, mail)
    (ack,) = _outbound(desk, number)
    job = SendJob(ticket_number=number, message_id=ack.message_id or "")
    records = [
        {"messageId": "bad", "receiptHandle": "r1", "body": "not json", "attributes": {}},
        {"messageId": "good", "receiptHandle": "r2", "body": job.to_json(), "attributes": {}},
    ]
    for record in records:
        record.update({"eventSource": "aws:sqs", "md5OfBody": "", "messageAttributes": {}})

    response = desk.sender.handler({"Records": records}, FakeLambdaContext())

    assert response["batchItemFailures"] == [{"itemIdentifier": "bad"}]
    assert _outbound(desk, number)[0].delivery_state == DeliveryState.SENT


def test_a_redelivered_send_job_does_not_send_the_mail_twice(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    number = _open(desk, mail)
    (ack,) = _outbound(desk, number)
    record = {
        "messageId": "j",
        "receiptHandle": "r",
        "body": SendJob(ticket_number=number, message_id=ack.message_id or "").to_json(),
        "attributes": {},
        "eventSource": "aws:sqs",
        "md5OfBody": "",
        "messageAttributes": {},
    }

    for _ in range(2):
        desk.sender.handler({"Records": [record]}, FakeLambdaContext())

    (sent_ack,) = _outbound(desk, number)
    to_ada = [
        item
        for item in sent_mail(moto_endpoint)
        if f"X-Helpdesk-Ticket: {number}" in item["raw_data"]
        and desk.stack.prefix in str(desk.stack.tables)
        and item["id"] == sent_ack.provider_message_id
    ]
    assert len(to_ada) == 1


def _service_with_parser(desk: LocalIngestDesk, parsed: ParsedMail) -> IngestService:
    settings = ingest_settings()
    return IngestService(
        tickets=desk.tickets,
        s3=desk.s3,
        attachments=AttachmentStore(desk.s3, settings.attachment_bucket, max_bytes=10, max_count=1),
        limiter=AutoMailLimiter(desk.table, 5),
        outbound=_queue(desk),
        settings=settings,
        parse=lambda raw, *, received_at: parsed,
    )


def test_a_bounce_marks_the_outbound_mail_it_reports_on_as_bounced(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    """The parser's verdict is given here; the real parser's bounce detection is tested by
    its own suite and by the corpus walk."""
    from helpdesk.mail.events import Delivery

    number = _open(desk, mail)
    desk.drain_outbound()
    (ack,) = _outbound(desk, number)
    assert ack.provider_message_id is not None
    bounce = ParsedMail(
        outcome=Outcome.BOUNCE,
        reason="delivery status notification",
        requester="mailer-daemon@customer.example",
        message_id="<dsn-1@customer.example>",
        bounced_message_ids=[ses_message_id(ack.provider_message_id, "us-east-1")],
    )
    service = _service_with_parser(desk, bounce)
    desk.s3.put_object(Bucket=desk.stack.buckets["MailBucket"], Key="inbound/dsn", Body=b"x")

    result = service.handle(Delivery(ses_message_id="dsn", source=""), now=LATER)

    assert result.disposition.value == "rejected"
    (bounced,) = _outbound(desk, number)
    assert bounced.delivery_state == DeliveryState.BOUNCED
    assert len(desk.tickets.thread(number).messages) == 2  # the bounce is not a message


def test_an_auto_reply_on_a_thread_is_kept_as_a_note_and_never_acknowledged(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    from helpdesk.mail.events import Delivery

    number = _open(desk, mail)
    out_of_office = ParsedMail(
        outcome=Outcome.AUTO_REPLY,
        reason="Auto-Submitted: auto-replied",
        requester="ada@customer.example",
        subject="Automatic reply: The printer is on fire",
        message_id="<ooo@customer.example>",
        in_reply_to=_outbound(desk, number)[0].message_id,
        auto_submitted=True,
    )
    desk.s3.put_object(Bucket=desk.stack.buckets["MailBucket"], Key="inbound/ooo", Body=b"x")

    result = _service_with_parser(desk, out_of_office).handle(
        Delivery(ses_message_id="ooo"), now=LATER
    )

    assert (result.disposition.value, result.acknowledged) == ("noted", False)
    (note,) = [
        m for m in desk.tickets.thread(number).messages if m.message_id == "<ooo@customer.example>"
    ]
    assert (note.kind, note.direction) == (MessageKind.SYSTEM, Direction.INBOUND)
    assert len(_outbound(desk, number)) == 1  # only the first acknowledgement


def test_automatic_notices_are_auto_generated_and_rate_limited_per_address(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    from helpdesk.mail.outbound import queue_notification

    number = _open(desk, mail)
    limiter = AutoMailLimiter(desk.table, 2)
    notices = [
        queue_notification(
            desk.tickets,
            _queue(desk),
            ingest_settings(),
            limiter,
            ticket_number=number,
            text="Your ticket is waiting for your answer.",
            now=LATER,
        )
        for _ in range(3)
    ]

    assert [notice is not None for notice in notices] == [True, True, False]
    desk.drain_outbound()
    sent = _sent(
        moto_endpoint, [m for m in _outbound(desk, number) if m.kind == MessageKind.SYSTEM]
    )
    assert sorted(str(m["Auto-Submitted"]) for m in sent) == [
        "auto-generated",
        "auto-generated",
        "auto-replied",
    ]


def test_a_send_job_that_keeps_failing_ends_in_the_dead_letter_queue_not_lost(
    desk: LocalIngestDesk,
) -> None:
    url = desk.stack.queue_urls["OutboundQueue"]
    desk.sqs.send_message(QueueUrl=url, MessageBody='{"ticket_number": "not a number"}')

    for _ in range(6):
        desk.drain_outbound()

    dead = desk.sqs.receive_message(
        QueueUrl=desk.stack.queue_urls["OutboundDeadLetterQueue"], MaxNumberOfMessages=10
    ).get("Messages", [])
    assert [m["Body"] for m in dead] == ['{"ticket_number": "not a number"}']
    assert desk.sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def _dsn(original_message_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Thu, 19 Mar 2026 10:31:00 +0000\r\n"
        "Message-ID: <dsn-42@mx.customer.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered: mailbox unknown.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n"
        "\r\n"
        "Final-Recipient: rfc822; ada@customer.example\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "--B\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "From: Support <support@example.com>\r\n"
        "To: ada@customer.example\r\n"
        f"Message-ID: {original_message_id}\r\n"
        "Subject: Re: The printer is on fire\r\n"
        "--B--\r\n"
    ).encode()


def test_a_real_delivery_status_notification_marks_our_reply_bounced(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open(desk, mail)
    desk.drain_outbound()
    (ack,) = _outbound(desk, number)
    assert ack.provider_message_id is not None

    (result,) = desk.deliver(
        _dsn(ses_message_id(ack.provider_message_id, "us-east-1")), received_at=LATER
    )

    assert (result["disposition"], result["outcome"]) == ("rejected", "bounce")
    (bounced,) = _outbound(desk, number)
    assert bounced.delivery_state == DeliveryState.BOUNCED
    assert len(_outbound(desk, number)) == 1  # and no acknowledgement of the bounce
