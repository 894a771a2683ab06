"""Delivery shapes and attachments, through the ingest handler against moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from helpdesk.domain.models import Direction
from helpdesk_tools.ingest_desk import (
    FakeLambdaContext,
    LocalIngestDesk,
    reset_cached_wiring,
)
from tests.conftest import load_event

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
MailBuilder = Callable[..., bytes]


def _invoke(desk: LocalIngestDesk, event: dict[str, Any]) -> dict[str, Any]:
    response = desk.ingest.handler(event, FakeLambdaContext())
    (result,) = response["results"]
    return dict(result)


@pytest.mark.parametrize(
    ("fixture", "requester", "text"),
    [
        ("ses_sns_action_base64", "grace@navy.example", "The compiler stops at line 12."),
        ("ses_sns_action_utf8", "juergen@beispiel.example", "Die Rechnung für März fehlt."),
    ],
)
def test_sns_action_mail_opens_a_ticket_and_its_raw_is_kept_in_the_mail_bucket(
    desk: LocalIngestDesk, fixture: str, requester: str, text: str
) -> None:
    event = load_event(fixture)

    result = _invoke(desk, event)

    assert result["disposition"] == "created"
    thread = desk.tickets.thread(result["ticket_number"])
    assert thread.ticket.requester == requester
    message = thread.messages[0]
    assert text in message.text
    kept = desk.s3.get_object(Bucket=desk.stack.buckets["MailBucket"], Key=message.source_key)
    assert text.encode() in kept["Body"].read()


def test_lambda_action_reads_the_raw_mail_the_s3_action_stored(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    desk.s3.put_object(
        Bucket=desk.stack.buckets["MailBucket"], Key="inbound/fixture-lambda-0001", Body=mail()
    )

    result = _invoke(desk, load_event("ses_lambda_action"))

    assert result["disposition"] == "created"
    message = desk.tickets.thread(result["ticket_number"]).messages[0]
    assert message.verdicts["spf"] == "SOFTFAIL"
    assert message.verdicts["dmarc"] == "GRAY"


def test_lambda_action_whose_raw_mail_is_missing_fails_so_that_it_is_retried(
    desk: LocalIngestDesk,
) -> None:
    from helpdesk.exceptions import RawMailMissingError

    with pytest.raises(RawMailMissingError):
        desk.ingest.handler(load_event("ses_lambda_action"), FakeLambdaContext())


@pytest.mark.corpus
def test_the_ses_docs_lambda_event_threads_and_records_its_verdicts(
    desk: LocalIngestDesk, corpus: Path
) -> None:
    samples = corpus / "C" / "ses_events"
    event = json.loads((samples / "ses_lambda_action_event.from_docs.json").read_text())
    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    raw = (samples / "ses_sns_action_content.decoded.eml").read_bytes()
    desk.s3.put_object(
        Bucket=desk.stack.buckets["MailBucket"], Key=f"inbound/{message_id}", Body=raw
    )

    result = _invoke(desk, event)

    assert result["disposition"] == "created"
    thread = desk.tickets.thread(result["ticket_number"])
    assert thread.ticket.subject == "Amazon SES Test"
    assert thread.messages[0].verdicts == {
        "spam": "PASS",
        "virus": "PASS",
        "spf": "PASS",
        "dkim": "PASS",
        "dmarc": "GRAY",
    }


def test_attachments_follow_the_size_and_count_policy_and_skips_are_listed(
    desk: LocalIngestDesk, mail: MailBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_MAX_ATTACHMENTS", "2")
    monkeypatch.setenv("HELPDESK_MAX_ATTACHMENT_BYTES", "1000")
    reset_cached_wiring()
    raw = mail(
        attachments=[
            ("a.txt", "text/plain", b"first file"),
            ("big.bin", "application/octet-stream", b"x" * 2000),
            ("c.pdf", "application/pdf", b"%PDF-1.4 tiny"),
            ("d.txt", "text/plain", b"one too many"),
        ]
    )

    (result,) = desk.deliver(raw, received_at=NOW)

    message = next(
        m
        for m in desk.tickets.thread(result["ticket_number"]).messages
        if m.direction == Direction.INBOUND
    )
    assert [a.filename for a in message.attachments] == ["a.txt", "c.pdf"]
    assert [(s.filename, s.reason) for s in message.skipped] == [
        ("big.bin", "larger than 1000 bytes"),
        ("d.txt", "more than 2 attachments"),
    ]
    bucket = desk.stack.buckets["AttachmentBucket"]
    for attachment in message.attachments:
        assert attachment.key is not None
        number, secret_part, _name = attachment.key.split("/")[1:]
        assert number == str(result["ticket_number"]) and len(secret_part) >= 24
        stored = desk.s3.get_object(Bucket=bucket, Key=attachment.key)["Body"].read()
        assert len(stored) == attachment.size
