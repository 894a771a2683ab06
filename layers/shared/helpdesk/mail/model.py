"""What parsing one raw mail yields: the contract between the parser and everything after it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Outcome(StrEnum):
    """What a mail is, as far as the desk is concerned."""

    CUSTOMER = "customer"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    ABUSE_REPORT = "abuse_report"
    REJECTED = "rejected"


class ParsedAttachment(BaseModel):
    filename: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str | None = None
    # The bytes travel beside the model, never into JSON output or logs.
    payload: bytes = Field(default=b"", exclude=True, repr=False)


class ParsedMail(BaseModel):
    """One mail, parsed. Every field has a best-effort value; nothing here raises later."""

    outcome: Outcome = Outcome.CUSTOMER
    reason: str = ""
    subject: str = ""
    requester: str | None = None
    requester_name: str = ""
    reply_to: str | None = None
    to: list[str] = Field(default_factory=list)
    cc: list[str] = Field(default_factory=list)
    message_id: str = ""
    message_id_generated: bool = False
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    visible_text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list)
    error: str | None = None
    # For a bounce: the Message-IDs and recipients of the original mail it reports on.
    bounced_message_ids: list[str] = Field(default_factory=list)
    bounced_recipients: list[str] = Field(default_factory=list)
    auto_submitted: bool = False
