"""Fixtures for the email flow against moto: a desk from template.yaml and a mail builder."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import boto3
import pytest

from helpdesk_tools.ingest_desk import LocalIngestDesk, reset_cached_wiring

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
MailBuilder = Callable[..., bytes]


def build_mail(
    *,
    subject: str = "The printer is on fire",
    sender: str = "Ada Lovelace <ada@customer.example>",
    to: str = "support@example.com",
    body: str = "It smokes since this morning.",
    message_id: str | None = "<first@customer.example>",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """A small, well-formed mail; every threading header can be set or left out."""
    mail = EmailMessage(policy=SMTP.clone(max_line_length=998))
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(NOW)
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    for filename, content_type, payload in attachments or []:
        maintype, subtype = content_type.split("/", 1)
        mail.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


@pytest.fixture
def mail() -> MailBuilder:
    return build_mail


@pytest.fixture
def desk(aws: boto3.session.Session) -> Iterator[LocalIngestDesk]:
    """A fresh desk, its functions' environment set as Lambda would set it."""
    saved = dict(os.environ)
    desk = LocalIngestDesk(aws)
    yield desk
    os.environ.clear()
    os.environ.update(saved)
    reset_cached_wiring()
