"""A fresh desk on a local AWS endpoint, fed mail as SES feeds it (mail replay, bench, tests).

Each mail is stored in the mail bucket where the receipt rule's S3 action would put it, then the
ingest function's own handler is invoked with an SES Lambda-action event. Queued outbound mail is
sent by the sender function's own handler, fed SQS-shaped events, into SES v2 on the endpoint.
"""

from __future__ import annotations

import importlib.util
import json
import os
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from helpdesk.data.tickets import TicketRepository
from helpdesk.mail import ingest as ingest_module
from helpdesk.mail import sender as sender_module
from helpdesk.mail.events import lambda_action_event
from helpdesk.settings import ingest_settings, sender_settings
from helpdesk_tools.template import ROOT, Stack, create_stack

FUNCTIONS = ROOT / "functions"


@dataclass
class FakeLambdaContext:
    """What Powertools reads from a Lambda context."""

    function_name: str = "local"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:local"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "local"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def load_function(relative: str) -> ModuleType:
    """A function's handler module, loaded from functions/<relative> under a unique name."""
    path = FUNCTIONS / relative
    name = "helpdesk_function_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reset_cached_wiring() -> None:
    """Forget settings and services built from an earlier environment."""
    ingest_settings.cache_clear()
    sender_settings.cache_clear()
    ingest_module.default_service.cache_clear()
    sender_module.default_sender.cache_clear()


class LocalIngestDesk:
    """A desk from template.yaml on the endpoint of `session`, driven through its handlers.

    Sets the functions' environment variables in this process (as Lambda would) and verifies
    the support domain in SES v2, so the sender may send from it.
    """

    def __init__(
        self, session: Any, *, prefix: str | None = None, mail_domain: str = "example.com"
    ) -> None:
        self.session = session
        self.mail_domain = mail_domain
        self.stack: Stack = create_stack(session, prefix=prefix or f"r{uuid.uuid4().hex[:10]}")
        os.environ.update(self.stack.environment(mail_domain=mail_domain))
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "helpdesk")
        reset_cached_wiring()
        self._verify_identity()
        self.s3 = session.client("s3")
        self.sqs = session.client("sqs")
        self.table = session.resource("dynamodb").Table(self.stack.tables["Table"])
        self.tickets = TicketRepository(self.table)
        self.ingest = load_function("ingest/app.py")
        self.sender = load_function("ingest/sender.py")
        self.support_address = f"support@{mail_domain}"

    def _verify_identity(self) -> None:
        try:
            self.session.client("sesv2").create_email_identity(EmailIdentity=self.mail_domain)
        except ClientError as error:
            if error.response["Error"]["Code"] != "AlreadyExistsException":
                raise

    def deliver(
        self,
        raw: bytes,
        *,
        received_at: datetime,
        recipients: list[str] | None = None,
        verdicts: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Store one raw mail as the S3 action does and invoke ingest; returns its results,
        each with the `source_key` the raw mail was stored under."""
        ses_message_id = uuid.uuid4().hex
        self.s3.put_object(
            Bucket=self.stack.buckets["MailBucket"], Key=f"inbound/{ses_message_id}", Body=raw
        )
        event = lambda_action_event(
            ses_message_id,
            recipients=recipients or [self.support_address],
            received_at=received_at,
            verdicts=verdicts,
            headers=_header_list(raw),
        )
        response = self.ingest.handler(event, FakeLambdaContext(function_name="IngestFunction"))
        source_key = f"inbound/{ses_message_id}"
        return [{**result, "source_key": source_key} for result in response["results"]]

    def drain_outbound(self, *, max_rounds: int = 20) -> int:
        """Send everything on the outbound queue through the sender's handler; returns how
        many jobs were handed to it. Failed jobs stay on the queue (as in SQS)."""
        handed = 0
        url = self.stack.queue_urls["OutboundQueue"]
        for _ in range(max_rounds):
            received = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                VisibilityTimeout=0,
            ).get("Messages", [])
            if not received:
                break
            event = {"Records": [_sqs_record(message, url) for message in received]}
            try:
                response = self.sender.handler(
                    event, FakeLambdaContext(function_name="SenderFunction")
                )
            except BatchProcessingError:
                # Every record failed: Lambda fails the invocation and SQS delivers them again.
                response = {
                    "batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in received]
                }
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            for message in received:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handed += len(received)
            if failed == {message["MessageId"] for message in received}:
                break
        return handed


def _header_list(raw: bytes) -> list[dict[str, str]]:
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    listed: list[dict[str, str]] = []
    for name, value in headers.items():
        try:
            listed.append({"name": name, "value": str(value)})
        except (ValueError, TypeError, IndexError):
            continue
    return listed


def _sqs_record(message: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{url.rsplit('/', 1)[-1]}",
        "awsRegion": "us-east-1",
    }


def sent_mail(endpoint: str, provider_ids: set[str] | None = None) -> list[dict[str, Any]]:
    """Mail SES sent on a moto endpoint, from moto's model API (`/moto-api/data.json`).

    Each item has `id`, `source`, `destinations` and `raw_data`; `provider_ids`, when given,
    keeps only the mails with those SES message ids.
    """
    if not endpoint.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ValueError("sent mail is read only from a loopback moto endpoint")
    url = f"{endpoint}/moto-api/data.json"  # loopback only, checked above
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
        data = json.load(response)
    mails = data.get("ses", {}).get("RawMessage", [])
    if provider_ids is not None:
        mails = [mail for mail in mails if mail.get("id") in provider_ids]
    return mails


def load_raw(path: Path) -> bytes:
    return path.read_bytes()


def mail_files(paths: list[Path]) -> list[Path]:
    """The mail files of `paths` in the order given; a folder's files sorted by path, its
    notes (*.md) and its HTML-to-text documents left out."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix != ".md" and "html_to_text" not in p.parts
            )
        else:
            found.append(path)
    return found
