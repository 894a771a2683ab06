"""The "Did this solve it?" links: signed, expiring, single-use tokens and their records.

A token names a ticket, one AI answer (a random nonce) and a choice (yes or no), with an expiry,
signed with HMAC-SHA256. The answer's record lives in the ticket's partition
(`TICKET#<n>` / `AIANSWER#<nonce>`); using either link flips it from `pending` to `used` with a
conditional write, so the yes and no links of one answer work once between them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from helpdesk.data import keys
from helpdesk.data.items import from_item, to_item
from helpdesk.exceptions import UnauthorizedError

RECORD_PREFIX = "AIANSWER#"


class Choice(StrEnum):
    YES = "yes"
    NO = "no"


class AnswerState(StrEnum):
    PENDING = "pending"
    USED = "used"


class TokenClaims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ticket_number: int
    nonce: str
    choice: Choice
    expires: int


class AnswerRecord(BaseModel):
    """What the first responder did on a ticket, kept for the hand-off note and the links."""

    model_config = ConfigDict(extra="forbid")

    ticket_number: int
    nonce: str
    created_at: datetime
    expires_at: datetime
    state: AnswerState = AnswerState.PENDING
    articles: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    score: float = 0.0
    gap: float = 0.0
    provider: str = "local"
    answer_excerpt: str = ""
    message_id: str | None = None
    outcome: str | None = None


def new_nonce() -> str:
    return secrets.token_hex(12)


def sign(claims: TokenClaims, secret: str) -> str:
    """`<payload>.<mac>`, both base64url without padding."""
    payload = _b64(json.dumps(claims.model_dump(mode="json"), separators=(",", ":")).encode())
    return f"{payload}.{_mac(payload, secret)}"


def verify(token: str, secret: str, *, now: datetime) -> TokenClaims:
    """The claims of a valid, unexpired token; raises UnauthorizedError otherwise (tampered,
    malformed or expired: the caller cannot tell which)."""
    payload, _, mac = token.strip().partition(".")
    if not payload or not mac or not hmac.compare_digest(_mac(payload, secret), mac):
        raise UnauthorizedError("this link is not valid")
    try:
        claims = TokenClaims.model_validate_json(_unb64(payload))
    except ValueError as error:
        raise UnauthorizedError("this link is not valid") from error
    if now.timestamp() >= claims.expires:
        raise UnauthorizedError("this link has expired")
    return claims


class AnswerRecords:
    """The AI answers' records in the one table. Takes a boto3 Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, record: AnswerRecord) -> None:
        self._table.put_item(
            Item=to_item(
                record,
                PK=keys.ticket_pk(record.ticket_number),
                SK=RECORD_PREFIX + record.nonce,
                entity="ai_answer",
            )
        )

    def get(self, ticket_number: int, nonce: str) -> AnswerRecord | None:
        item = self._table.get_item(
            Key={"PK": keys.ticket_pk(ticket_number), "SK": RECORD_PREFIX + nonce},
            ConsistentRead=True,
        ).get("Item")
        return AnswerRecord.model_validate(from_item(item)) if item else None

    def pending(self, ticket_number: int) -> list[AnswerRecord]:
        """The ticket's AI answers still waiting for the customer, oldest first."""
        response = self._table.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": keys.ticket_pk(ticket_number),
                ":prefix": RECORD_PREFIX,
            },
            ConsistentRead=True,
        )
        records = [AnswerRecord.model_validate(from_item(i)) for i in response.get("Items", [])]
        return [r for r in records if r.state == AnswerState.PENDING]

    def use(self, ticket_number: int, nonce: str, outcome: str) -> bool:
        """Flip the record from pending to used; False when it was used already (or absent)."""
        try:
            self._table.update_item(
                Key={"PK": keys.ticket_pk(ticket_number), "SK": RECORD_PREFIX + nonce},
                UpdateExpression="SET #s = :used, outcome = :outcome",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":used": AnswerState.USED.value,
                    ":pending": AnswerState.PENDING.value,
                    ":outcome": outcome,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def expiry(now: datetime, hours: int) -> int:
    return int(now.astimezone(UTC).timestamp()) + hours * 3600


def _mac(payload: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"kb-confirm:{payload}".encode(), hashlib.sha256).digest()
    return _b64(digest)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as error:
        raise UnauthorizedError("this link is not valid") from error
