"""SES receipt events read defensively: the Lambda action, the SNS action, the docs' samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.exceptions import UnsupportedEventError
from helpdesk.mail.events import deliveries_from_event, lambda_action_event
from tests.conftest import load_event

BUCKET, PREFIX = "mail-bucket", "inbound/"


def test_lambda_action_points_at_the_raw_mail_the_s3_action_stored() -> None:
    (delivery,) = deliveries_from_event(
        load_event("ses_lambda_action"), bucket=BUCKET, prefix=PREFIX
    )

    assert (delivery.bucket, delivery.key) == (BUCKET, "inbound/fixture-lambda-0001")
    assert delivery.content is None
    assert delivery.recipients == ["support@example.com"]
    assert delivery.received_at == datetime(2026, 3, 19, 8, 0, 1, 250000, tzinfo=UTC)


def test_all_five_verdicts_and_the_dmarc_policy_are_recorded() -> None:
    (delivery,) = deliveries_from_event(
        load_event("ses_lambda_action"), bucket=BUCKET, prefix=PREFIX
    )

    assert delivery.verdicts == {
        "spam": "PASS",
        "virus": "PASS",
        "spf": "SOFTFAIL",
        "dkim": "PASS",
        "dmarc": "GRAY",
        "dmarc_policy": "none",
    }
    assert delivery.failed_verdicts == []


def test_a_failed_spam_verdict_is_reported_for_suspension() -> None:
    (delivery,) = deliveries_from_event(
        load_event("ses_lambda_action_spam"), bucket=BUCKET, prefix=PREFIX
    )

    assert delivery.failed_verdicts == ["spam"]


def test_sns_action_with_base64_content_carries_the_mail_itself() -> None:
    (delivery,) = deliveries_from_event(
        load_event("ses_sns_action_base64"), bucket=BUCKET, prefix=PREFIX
    )

    assert delivery.content is not None
    assert b"Message-ID: <sns-base64-1@navy.example>" in delivery.content
    assert delivery.key == "inbound/fixture-sns-base64-0001"


def test_sns_action_with_raw_utf8_content_keeps_every_character() -> None:
    (delivery,) = deliveries_from_event(
        load_event("ses_sns_action_utf8"), bucket=BUCKET, prefix=PREFIX
    )

    assert delivery.content is not None
    assert "Grüße, Jürgen".encode() in delivery.content


def test_an_event_of_another_shape_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedEventError):
        deliveries_from_event({"detail-type": "Scheduled Event"}, bucket=BUCKET, prefix=PREFIX)
    with pytest.raises(UnsupportedEventError):
        deliveries_from_event(
            {"Records": [{"Sns": {"Message": "Hello from SNS!"}}]}, bucket=BUCKET, prefix=PREFIX
        )


def test_the_event_the_local_stack_builds_reads_back_as_the_same_delivery() -> None:
    at = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
    event = lambda_action_event(
        "abc123", recipients=["support@example.com"], received_at=at, verdicts={"virus": "FAIL"}
    )

    (delivery,) = deliveries_from_event(event, bucket=BUCKET, prefix=PREFIX)

    assert (delivery.key, delivery.received_at, delivery.failed_verdicts) == (
        "inbound/abc123",
        at,
        ["virus"],
    )


SES_SAMPLES = [
    ("ses_events/ses_lambda_action_event.from_docs.json", "lambda"),
    ("powertools/sesEvent.json", "lambda"),
    ("aws_lambda_go/ses-lambda-event.json", "lambda"),
    ("aws_lambda_go/ses-sns-event.json", "lambda"),
]


@pytest.mark.corpus
@pytest.mark.parametrize(("path", "shape"), SES_SAMPLES)
def test_published_ses_lambda_events_are_read_without_powertools_models(
    corpus: Path, path: str, shape: str
) -> None:
    event = json.loads((corpus / "C" / path).read_text(encoding="utf-8"))

    (delivery,) = deliveries_from_event(event, bucket=BUCKET, prefix=PREFIX)

    message_id = event["Records"][0]["ses"]["mail"]["messageId"]
    assert delivery.key == f"inbound/{message_id}"
    assert delivery.verdicts["spam"] == "PASS"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "path",
    [
        "ses_events/ses_sns_action_message.from_docs.json",
        "ses_events/ses_sns_action_notification_utf8.from_docs.json",
    ],
)
def test_published_sns_action_notifications_yield_the_raw_mail(corpus: Path, path: str) -> None:
    notification = (corpus / "C" / path).read_text(encoding="utf-8")
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": notification}}]}

    (delivery,) = deliveries_from_event(event, bucket=BUCKET, prefix=PREFIX)

    assert delivery.content is not None
    assert delivery.content.startswith(b"Return-Path:")


@pytest.mark.corpus
def test_published_s3_action_alert_names_the_bucket_and_key_to_read(corpus: Path) -> None:
    notification = (
        corpus / "C" / "ses_events" / "ses_s3_action_alert_notification.from_docs.json"
    ).read_text(encoding="utf-8")
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": notification}}]}

    (delivery,) = deliveries_from_event(event, bucket=BUCKET, prefix=PREFIX)

    assert (delivery.bucket, delivery.key) == ("my-S3-bucket", "\\email")
