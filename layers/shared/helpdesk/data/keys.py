"""The one table's key design: every partition and sort key, and every index key, built here.

| item | PK | SK | index keys |
|---|---|---|---|
| ticket | TICKET#<number> | TICKET | GSI1 requester; GSI2, GSI3 queue; GSI4 SLA due |
| message | TICKET#<number> | MSG#<created>#<id> | |
| audit event | TICKET#<number> | AUDIT#<at>#<seq> | |
| threading id | MSGID#<message-id> | MSGID | |
| counter | COUNTER | <name> | |
| configuration | CONFIG#<kind> | <id> | |
"""

from __future__ import annotations

from datetime import UTC, datetime

TICKET_SK = "TICKET"
MSGID_SK = "MSGID"
NO_TEAM = "-"
SLA_PARTITION = "DUE"
FAR_FUTURE = "9999-12-31T23:59:59.999999Z"

INDEX_REQUESTER = "GSI1"
INDEX_QUEUE = "GSI2"
INDEX_URGENCY = "GSI3"
INDEX_SLA_DUE = "GSI4"


def instant(value: datetime) -> str:
    """A fixed-width UTC ISO string, so that index sort keys order as the instants do."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not instants; pass an aware datetime")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ticket_pk(number: int) -> str:
    return f"TICKET#{number}"


def message_sk(created_at: datetime, message_key: str) -> str:
    return f"MSG#{instant(created_at)}#{message_key}"


def audit_sk(at: datetime, seq: str) -> str:
    return f"AUDIT#{instant(at)}#{seq}"


def msgid_pk(message_id: str) -> str:
    return f"MSGID#{normalise_message_id(message_id)}"


def requester_pk(email: str) -> str:
    return f"REQUESTER#{email.strip().lower()}"


def queue_pk(team: str | None, status: str) -> str:
    return f"QUEUE#{team or NO_TEAM}#{status}"


def config_pk(kind: str) -> str:
    return f"CONFIG#{kind}"


def normalise_message_id(message_id: str) -> str:
    """Strip the angle brackets and white space around a Message-ID; keep its case."""
    return message_id.strip().strip("<>").strip()
