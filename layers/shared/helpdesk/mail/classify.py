"""Recognising automatic mail: bounces, auto-replies and abuse reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from helpdesk.mail.model import Outcome, ParsedMail


@dataclass
class Verdict:
    """What a mail is, why, and for a bounce what it reports on."""

    outcome: Outcome = Outcome.CUSTOMER
    reason: str = ""
    automatic: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)
    bounced_recipients: list[str] = field(default_factory=list)


def classify(message: Message, mail: ParsedMail) -> Verdict:
    """The verdict for a parsed mail (first version: everything is customer mail)."""
    return Verdict()
