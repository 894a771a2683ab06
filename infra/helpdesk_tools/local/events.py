"""The event shapes AWS hands to each function, built from what the local stack received.

Pure functions over plain data: the shapes follow the published samples in
../shared/corpus/C (SES Lambda action, DynamoDB stream, SQS, EventBridge schedule) and the
API Gateway REST (payload 1.0) proxy integration that Chalice reads.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any

from helpdesk_tools.local.runtime import ACCOUNT, REGION

_SES_ID_ALPHABET = string.ascii_lowercase + string.digits


def ses_message_id() -> str:
    """A fresh id shaped like SES's receipt message ids (40 lowercase letters and digits)."""
    return "".join(secrets.choice(_SES_ID_ALPHABET) for _ in range(40))


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def ses_lambda_event(
    *,
    raw: bytes,
    message_id: str,
    envelope_from: str,
    recipients: list[str],
    now: datetime,
    function_arn: str,
    processing_ms: int = 0,
) -> dict[str, Any]:
    """The SES receipt Lambda-action event for a mail whose raw MIME the S3 action stored.

    Verdicts are PASS: the local SMTP server performs no spam, virus, SPF or DKIM checks.
    """
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    header_list = [{"name": name, "value": _header_text(value)} for name, value in headers.items()]
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": _iso(now),
                        "source": envelope_from,
                        "messageId": message_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "headers": header_list,
                        "commonHeaders": _common_headers(headers, envelope_from),
                    },
                    "receipt": {
                        "timestamp": _iso(now),
                        "processingTimeMillis": processing_ms,
                        "recipients": recipients,
                        "spamVerdict": {"status": "PASS"},
                        "virusVerdict": {"status": "PASS"},
                        "spfVerdict": {"status": "PASS"},
                        "dkimVerdict": {"status": "PASS"},
                        "dmarcVerdict": {"status": "PASS"},
                        "action": {
                            "type": "Lambda",
                            "functionArn": function_arn,
                            "invocationType": "Event",
                        },
                    },
                },
            }
        ]
    }


def _header_text(value: Any) -> str:
    # SES passes header values as received, unfolded; undecodable bytes become U+FFFD.
    text = str(value)
    return " ".join(part.strip() for part in text.replace("\r", "").split("\n"))


def _common_headers(headers: EmailMessage, envelope_from: str) -> dict[str, Any]:
    common: dict[str, Any] = {"returnPath": envelope_from}
    for name, key in (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Reply-To", "replyTo")):
        values = headers.get_all(name)
        if values:
            common[key] = [
                _header_text(address)
                for address in _split_addresses([_header_text(v) for v in values])
            ]
    for name, key in (("Date", "date"), ("Message-ID", "messageId"), ("Subject", "subject")):
        value = headers.get(name)
        if value is not None:
            common[key] = _header_text(value)
    return common


def _split_addresses(values: list[str]) -> list[str]:
    pairs = getaddresses(values)
    out = []
    for name, address in pairs:
        if not address and not name:
            continue
        out.append(f'"{name}" <{address}>' if name else address)
    return out or values


def api_gateway_event(
    *,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    now: datetime,
    stage: str = "api",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0) for `ANY /{proxy+}` or `ANY /`.

    `path` is the request path without the stage. The template declares binary media types
    `*/*`, so API Gateway hands every body over base64-encoded, and so does this.
    """
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    proxy = path.lstrip("/")
    resource = "/{proxy+}" if proxy else "/"
    request_id = str(uuid.uuid4())
    lowered = {name.lower(): value for name, value in headers}
    return {
        "resource": resource,
        "path": path or "/",
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path or '/'}",
            "accountId": ACCOUNT,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "local",
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": lowered.get("user-agent"),
                "user": None,
            },
            "domainName": lowered.get("host", "localhost"),
            "apiId": "local",
        },
        "body": base64.b64encode(body).decode("ascii") if body else None,
        "isBase64Encoded": bool(body),
    }


def stream_record(raw: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record from dynamodbstreams.get_records (as boto3's client returns it) in the shape
    Lambda's event source mapping delivers: epoch seconds, the source ARN, the region."""
    dynamodb = dict(raw["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = float(int(created.timestamp()))
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": raw.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": raw.get("awsRegion", REGION),
        "dynamodb": _plain_attributes(dynamodb),
        "eventSourceARN": stream_arn,
    }


def _plain_attributes(value: Any) -> Any:
    # boto3's low-level client returns B and BS as bytes; the Lambda event carries base64.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {key: _plain_attributes(inner) for key, inner in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain_attributes(inner) for inner in value]
    return value


def matches_triage_filter(record: Mapping[str, Any]) -> bool:
    """The TicketStream FilterCriteria of template.yaml: any change to a ticket item, or the
    insert of a message item."""
    sort_key = record.get("dynamodb", {}).get("Keys", {}).get("SK", {}).get("S", "")
    if sort_key == "TICKET":
        return True
    return record.get("eventName") == "INSERT" and sort_key.startswith("MSG#")


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The SQS event Lambda's event source mapping builds from received messages."""
    records = []
    for message in messages:
        body = message["Body"]
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": dict(message.get("Attributes", {})),
                "messageAttributes": {
                    name: _sqs_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def _sqs_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def schedule_event(now: datetime, rule: str = "helpdesk-sla-sweep") -> dict[str, Any]:
    """The EventBridge scheduled-rule event, as `rate(1 minute)` delivers it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }
