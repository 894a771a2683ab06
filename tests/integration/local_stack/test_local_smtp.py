"""SMTP in: what the local stand-in for SES receiving accepts, refuses and hands to ingest."""

from __future__ import annotations

import json
import smtplib
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest

from helpdesk_tools.local.smtp import Inbox, SmtpServer

LIMIT = 4000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Received:
    """Stands in for the ingest function: records the events it is invoked with."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = threading.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.arrived.set()


@pytest.fixture
def inbound(aws: Any, stack: Any) -> Iterator[tuple[SmtpServer, _Received, Any]]:
    received = _Received()
    inbox = Inbox(
        s3=aws.client("s3"),
        bucket=stack.buckets["MailBucket"],
        mail_domain="example.com",
        invoke=received,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:ingest",
        on_failure=lambda event, error: None,
    )
    inbox.start()
    server = SmtpServer(inbox, "127.0.0.1", _free_port(), LIMIT)
    server.start()
    yield server, received, inbox
    server.stop()
    inbox.stop()


def _mail(size: int = 100) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Ana Chen <ana.chen@example.org>"
    message["To"] = "support@example.com"
    message["Subject"] = "Where is my parcel?"
    message["Message-ID"] = "<parcel-1@example.org>"
    message["Date"] = "Fri, 04 Dec 2026 10:00:00 +0000"
    message.set_content(("x" * 69 + "\n") * (size // 70 + 1))
    return message


def _stored_keys(aws: Any, stack: Any) -> list[str]:
    listing = aws.client("s3").list_objects_v2(Bucket=stack.buckets["MailBucket"])
    return [entry["Key"] for entry in listing.get("Contents", [])]


def test_ehlo_announces_the_size_limit(inbound: Any) -> None:
    server, _, _ = inbound

    with smtplib.SMTP(server.host, server.port) as client:
        client.ehlo()

        assert client.esmtp_features["size"] == str(LIMIT)


def test_oversized_mail_declared_with_size_is_refused_with_552_5_3_4(
    inbound: Any, aws: Any, stack: Any
) -> None:
    server, received, _ = inbound

    with (
        smtplib.SMTP(server.host, server.port) as client,
        pytest.raises(smtplib.SMTPSenderRefused) as refused,
    ):
        client.send_message(_mail(LIMIT * 2))

    assert refused.value.smtp_code == 552
    assert refused.value.smtp_error.startswith(b"5.3.4")
    assert _stored_keys(aws, stack) == []
    assert received.events == []


def test_oversized_mail_without_size_is_refused_after_data_with_552_5_3_4(
    inbound: Any, aws: Any, stack: Any
) -> None:
    server, received, _ = inbound

    with smtplib.SMTP(server.host, server.port) as client:
        client.ehlo()
        client.mail("ana.chen@example.org")
        client.rcpt("support@example.com")
        code, reply = client.data(_mail(LIMIT * 2).as_bytes(policy=SMTP))

    assert code == 552
    assert reply.startswith(b"5.3.4")
    assert _stored_keys(aws, stack) == []
    assert received.events == []


def test_mail_for_another_domain_is_refused_with_550(inbound: Any) -> None:
    server, received, _ = inbound

    with (
        smtplib.SMTP(server.host, server.port) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.send_message(_mail(), to_addrs=["someone@elsewhere.example.net"])

    code, _ = refused.value.recipients["someone@elsewhere.example.net"]
    assert code == 550
    assert received.events == []


def test_accepted_mail_is_stored_under_inbound_and_ingest_gets_the_ses_event(
    inbound: Any, aws: Any, stack: Any
) -> None:
    server, received, inbox = inbound

    with smtplib.SMTP(server.host, server.port) as client:
        client.send_message(_mail(), to_addrs=["support+7-abc@example.com"])
    assert inbox.wait_drained(10)

    (event,) = received.events
    record = event["Records"][0]
    ses_id = record["ses"]["mail"]["messageId"]
    assert _stored_keys(aws, stack) == [f"inbound/{ses_id}"]
    stored = (
        aws.client("s3")
        .get_object(Bucket=stack.buckets["MailBucket"], Key=f"inbound/{ses_id}")["Body"]
        .read()
    )
    assert b"Where is my parcel?" in stored
    assert record["eventSource"] == "aws:ses"
    assert record["ses"]["mail"]["destination"] == ["support+7-abc@example.com"]
    assert record["ses"]["mail"]["source"] == "ana.chen@example.org"
    assert record["ses"]["mail"]["commonHeaders"]["subject"] == "Where is my parcel?"
    assert record["ses"]["mail"]["commonHeaders"]["messageId"] == "<parcel-1@example.org>"
    assert {"name": "Message-ID", "value": "<parcel-1@example.org>"} in record["ses"]["mail"][
        "headers"
    ]
    assert record["ses"]["receipt"]["action"]["type"] == "Lambda"
    assert record["ses"]["receipt"]["spamVerdict"] == {"status": "PASS"}


@pytest.mark.corpus
def test_ses_event_has_every_field_of_the_published_lambda_action_sample(
    inbound: Any, corpus: Path
) -> None:
    server, received, inbox = inbound
    sample = json.loads(
        (corpus / "C/ses_events/ses_lambda_action_event.from_docs.json").read_text()
    )["Records"][0]

    with smtplib.SMTP(server.host, server.port) as client:
        client.send_message(_mail())
    assert inbox.wait_drained(10)

    record = received.events[0]["Records"][0]
    assert set(record) == set(sample)
    assert set(record["ses"]["mail"]) == set(sample["ses"]["mail"])
    assert set(record["ses"]["receipt"]) == set(sample["ses"]["receipt"])
    assert set(record["ses"]["receipt"]["action"]) == set(sample["ses"]["receipt"]["action"])
    assert set(sample["ses"]["mail"]["commonHeaders"]) <= set(
        record["ses"]["mail"]["commonHeaders"]
    )
