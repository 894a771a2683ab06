"""SES receipt event shapes, read defensively: the Lambda action and the SNS action.

SES invokes ingest in one of two ways:

- the **Lambda action** after an S3 action: `Records[].ses` with `mail` and `receipt`, no body;
  the raw MIME is in the mail bucket under the S3 action's prefix plus `mail.messageId`;
- the **SNS action**: `Records[].Sns.Message` is a JSON notification with `mail`, `receipt`
  and `content` (base64 when `receipt.action.encoding` is BASE64, raw UTF-8 otherwise). An S3
  action's alert notification (`action.type == "S3"`) names the bucket and key instead.

Powertools' `SesModel` refuses real events (an `action.type` other than Lambda, a missing
subject), so the shapes are read here by hand and anything missing gets a safe default.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

from helpdesk.exceptions import UnsupportedEventError

logger = logging.getLogger(__name__)

VERDICT_NAMES = ("spam", "virus", "spf", "dkim", "dmarc")


@dataclass(frozen=True)
class Delivery:
    """One received mail: where its raw MIME is (or the MIME itself) and SES's verdicts.

    `source` is the envelope sender SES reports (`mail.source`, the SMTP MAIL FROM): "" for a
    null sender (`<>`), None when the event does not say.
    """

    ses_message_id: str
    source: str | None = None
    recipients: list[str] = field(default_factory=list)
    verdicts: dict[str, str] = field(default_factory=dict)
    received_at: datetime | None = None
    bucket: str | None = None
    key: str | None = None
    content: bytes | None = None

    @property
    def failed_verdicts(self) -> list[str]:
        """The spam or virus verdicts that are FAIL: these send a mail to the suspended queue."""
        return [name for name in ("spam", "virus") if self.verdicts.get(name) == "FAIL"]


def deliveries_from_event(event: Any, *, bucket: str, prefix: str) -> list[Delivery]:
    """The mails an SES Lambda-action or SNS-action event carries, in order.

    `bucket` and `prefix` say where the S3 action stored the raw MIME for a Lambda-action
    event. Raises UnsupportedEventError for an event of neither shape.
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        raise UnsupportedEventError("the event has no Records")
    return [_delivery_from_record(record, bucket=bucket, prefix=prefix) for record in records]


def _delivery_from_record(record: Any, *, bucket: str, prefix: str) -> Delivery:
    if not isinstance(record, dict):
        raise UnsupportedEventError("a record is not an object")
    if isinstance(record.get("ses"), dict):
        return _from_notification(record["ses"], bucket=bucket, prefix=prefix)
    sns = record.get("Sns") or record.get("sns")
    if isinstance(sns, dict):
        try:
            notification = json.loads(sns.get("Message") or "")
        except (TypeError, ValueError) as error:
            raise UnsupportedEventError("the SNS message is not an SES notification") from error
        if not isinstance(notification, dict) or "mail" not in notification:
            raise UnsupportedEventError("the SNS message is not an SES notification")
        return _from_notification(notification, bucket=bucket, prefix=prefix)
    raise UnsupportedEventError("a record is neither an SES nor an SNS record")


def _from_notification(notification: dict[str, Any], *, bucket: str, prefix: str) -> Delivery:
    mail = _dict(notification.get("mail"))
    receipt = _dict(notification.get("receipt"))
    action = _dict(receipt.get("action"))
    ses_message_id = str(mail.get("messageId") or "").strip()
    if not ses_message_id:
        raise UnsupportedEventError("the SES notification has no mail.messageId")

    base = Delivery(
        ses_message_id=ses_message_id,
        source=_envelope_sender(mail.get("source")),
        recipients=_strings(receipt.get("recipients")) or _strings(mail.get("destination")),
        verdicts=verdicts_of(receipt),
        received_at=_instant(receipt.get("timestamp") or mail.get("timestamp")),
    )
    content = notification.get("content")
    if isinstance(content, str):
        # The mail itself; bucket and key say where ingest keeps its copy of the raw MIME.
        return replace(
            base,
            content=_content_bytes(content, action.get("encoding")),
            bucket=bucket,
            key=f"{prefix}{ses_message_id}",
        )
    if action.get("type") == "S3" and action.get("bucketName") and action.get("objectKey"):
        return replace(base, bucket=str(action["bucketName"]), key=str(action["objectKey"]))
    return replace(base, bucket=bucket, key=f"{prefix}{ses_message_id}")


def verdicts_of(receipt: dict[str, Any]) -> dict[str, str]:
    """SES's verdicts by name (spam, virus, spf, dkim, dmarc), upper case; absent ones left out."""
    verdicts: dict[str, str] = {}
    for name in VERDICT_NAMES:
        status = _dict(receipt.get(f"{name}Verdict")).get("status")
        if isinstance(status, str) and status.strip():
            verdicts[name] = status.strip().upper()
    policy = receipt.get("dmarcPolicy")
    if isinstance(policy, str) and policy:
        verdicts["dmarc_policy"] = policy.lower()
    return verdicts


def _envelope_sender(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return value.strip().strip("<>").strip()


def _content_bytes(content: str, encoding: Any) -> bytes:
    if str(encoding or "").upper() == "BASE64":
        try:
            return base64.b64decode(content, validate=False)
        except (binascii.Error, ValueError) as error:
            raise UnsupportedEventError("the SNS content is not valid base64") from error
    # Without an encoding SES publishes the MIME as a UTF-8 string; surrogates from raw 8-bit
    # bytes are passed through rather than refused.
    return content.encode("utf-8", errors="surrogateescape")


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        logger.debug("unreadable receipt timestamp")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def lambda_action_event(
    ses_message_id: str,
    *,
    recipients: list[str],
    received_at: datetime,
    verdicts: dict[str, str] | None = None,
    headers: list[dict[str, str]] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """An SES Lambda-action event for a mail already stored by the S3 action.

    The local stack and `helpdesk mail replay` use it to invoke ingest exactly as SES does.
    `source` is the envelope sender; without one it is taken as an SMTP relay would have
    seen it: the mail's Return-Path, else its From address (so a local delivery of a forged
    bounce does not pass for a null-sender one).
    """
    verdicts = verdicts or {}
    if source is None:
        source = envelope_sender_of(headers or [])
    stamp = received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    receipt: dict[str, Any] = {
        "timestamp": stamp,
        "processingTimeMillis": 0,
        "recipients": recipients,
        "action": {
            "type": "Lambda",
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:IngestFunction",
            "invocationType": "Event",
        },
    }
    for name in VERDICT_NAMES:
        receipt[f"{name}Verdict"] = {"status": verdicts.get(name, "PASS")}
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": stamp,
                        "source": source,
                        "messageId": ses_message_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "headers": headers or [],
                        "commonHeaders": {},
                    },
                    "receipt": receipt,
                },
            }
        ]
    }


def envelope_sender_of(headers: list[dict[str, str]]) -> str:
    """The envelope sender a relay would have used for a mail with these headers: the address
    in Return-Path ("" for `<>`), else the From address, else ""."""
    by_name: dict[str, str] = {}
    for header in headers:
        name = str(header.get("name", "")).lower()
        by_name.setdefault(name, str(header.get("value", "")))
    if "return-path" in by_name:
        return _first_address(by_name["return-path"])
    return _first_address(by_name.get("from", ""))


def _first_address(value: str) -> str:
    addresses = [address for _, address in getaddresses([value]) if "@" in address]
    return addresses[0].strip() if addresses else ""
