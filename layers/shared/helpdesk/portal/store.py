"""The portal's own items in the one table: sign-in nonces, presence, uploads, chat threads,
webhook replay guards, rate counters and organisation members.

| item | PK | SK |
|---|---|---|
| sign-in nonce | LOGIN#<nonce> | LOGIN |
| presence | PRESENCE#<ticket number> | <agent id> |
| upload | UPLOAD#<key> | UPLOAD |
| chat conversation | CHAT#<source>#<conversation id> | CHAT |
| webhook signature seen | WEBHOOK#<signature> | SEEN |
| rate counter | RATE#<key>#<window start> | RATE |
| organisation member | ORGMEMBER#<organisation id> | <email> |

Items that should vanish carry `ttl`; moto does not expire them, so every read also checks
`expires_at` itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from helpdesk.exceptions import ConflictError, RateLimitedError, UnauthorizedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Presence:
    agent_id: str
    name: str
    activity: str
    seen_at: datetime


@dataclass(frozen=True)
class Upload:
    key: str
    email: str
    filename: str
    content_type: str
    size: int
    expires_at: datetime
    ticket_number: int | None = None


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _condition_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class PortalStore:
    """Reads and writes the portal's items. Takes a boto3 Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table

    # -- sign-in nonces -------------------------------------------------------------------

    def put_nonce(self, nonce: str, email: str, *, expires_at: datetime) -> None:
        self._table.put_item(
            Item={
                "PK": f"LOGIN#{nonce}",
                "SK": "LOGIN",
                "entity": "login",
                "email": email,
                "expires_at": _epoch(expires_at),
                "ttl": _epoch(expires_at),
            }
        )

    def consume_nonce(self, nonce: str, email: str, *, now: datetime) -> None:
        """Delete the nonce if it exists, is for `email` and has not expired; raises
        UnauthorizedError otherwise (a reused, foreign or expired link)."""
        try:
            self._table.delete_item(
                Key={"PK": f"LOGIN#{nonce}", "SK": "LOGIN"},
                ConditionExpression="attribute_exists(PK) AND email = :e AND expires_at > :now",
                ExpressionAttributeValues={":e": email, ":now": _epoch(now)},
            )
        except ClientError as error:
            if _condition_failed(error):
                raise UnauthorizedError(
                    "the sign-in link was already used or has expired"
                ) from error
            raise

    # -- presence -------------------------------------------------------------------------

    def touch_presence(self, ticket_number: int, presence: Presence, *, ttl_seconds: int) -> None:
        expires = _epoch(presence.seen_at) + ttl_seconds
        self._table.put_item(
            Item={
                "PK": f"PRESENCE#{ticket_number}",
                "SK": presence.agent_id,
                "entity": "presence",
                "name": presence.name,
                "activity": presence.activity,
                "seen_at": presence.seen_at.isoformat(),
                "expires_at": expires,
                "ttl": expires,
            }
        )

    def presence(self, ticket_number: int, *, now: datetime) -> list[Presence]:
        """Agents seen on the ticket whose presence has not lapsed."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"PRESENCE#{ticket_number}")
        )
        return [
            Presence(
                agent_id=item["SK"],
                name=str(item.get("name", "")),
                activity=str(item.get("activity", "viewing")),
                seen_at=datetime.fromisoformat(item["seen_at"]),
            )
            for item in response.get("Items", [])
            if int(item.get("expires_at", 0)) > _epoch(now)
        ]

    # -- uploads --------------------------------------------------------------------------

    def put_upload(self, upload: Upload) -> None:
        self._table.put_item(
            Item={
                "PK": f"UPLOAD#{upload.key}",
                "SK": "UPLOAD",
                "entity": "upload",
                "email": upload.email,
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": upload.size,
                "expires_at": _epoch(upload.expires_at),
            }
        )

    def get_upload(self, key: str) -> Upload | None:
        item = self._table.get_item(Key={"PK": f"UPLOAD#{key}", "SK": "UPLOAD"}).get("Item")
        if item is None:
            return None
        from datetime import UTC

        return Upload(
            key=key,
            email=str(item["email"]),
            filename=str(item["filename"]),
            content_type=str(item["content_type"]),
            size=int(item["size"]),
            expires_at=datetime.fromtimestamp(int(item["expires_at"]), tz=UTC),
            ticket_number=int(item["ticket_number"]) if "ticket_number" in item else None,
        )

    def claim_upload(self, key: str, email: str, ticket_number: int) -> None:
        """Bind an upload to a ticket, once, and only for the customer it was issued to;
        raises ConflictError when it is already claimed or not theirs."""
        try:
            self._table.update_item(
                Key={"PK": f"UPLOAD#{key}", "SK": "UPLOAD"},
                UpdateExpression="SET ticket_number = :n",
                ConditionExpression="attribute_exists(PK) AND email = :e "
                "AND attribute_not_exists(ticket_number)",
                ExpressionAttributeValues={":n": ticket_number, ":e": email},
            )
        except ClientError as error:
            if _condition_failed(error):
                raise ConflictError("the upload is already attached") from error
            raise

    # -- chat conversations ---------------------------------------------------------------

    def conversation_ticket(self, source: str, conversation_id: str) -> int | None:
        item = self._table.get_item(
            Key={"PK": f"CHAT#{source}#{conversation_id}", "SK": "CHAT"}
        ).get("Item")
        return int(item["ticket_number"]) if item else None

    def link_conversation(self, source: str, conversation_id: str, ticket_number: int) -> bool:
        """Map a conversation to a ticket; False when another request mapped it first."""
        try:
            self._table.put_item(
                Item={
                    "PK": f"CHAT#{source}#{conversation_id}",
                    "SK": "CHAT",
                    "entity": "chat",
                    "ticket_number": ticket_number,
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if _condition_failed(error):
                return False
            raise
        return True

    def relink_conversation(self, source: str, conversation_id: str, ticket_number: int) -> None:
        """Point a conversation at a new ticket (its old one was closed)."""
        self._table.put_item(
            Item={
                "PK": f"CHAT#{source}#{conversation_id}",
                "SK": "CHAT",
                "entity": "chat",
                "ticket_number": ticket_number,
            }
        )

    # -- webhook replay guard -------------------------------------------------------------

    def remember_signature(self, signature: str, *, expires_at: datetime) -> None:
        """Record a webhook signature; raises UnauthorizedError if it was seen before."""
        try:
            self._table.put_item(
                Item={
                    "PK": f"WEBHOOK#{signature}",
                    "SK": "SEEN",
                    "entity": "webhook-seen",
                    "expires_at": _epoch(expires_at),
                    "ttl": _epoch(expires_at),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if _condition_failed(error):
                raise UnauthorizedError("this webhook delivery was already received") from error
            raise

    # -- rate limits ----------------------------------------------------------------------

    def hit(self, key: str, *, now: datetime, window_seconds: int, limit: int) -> None:
        """Count one request for `key` in the current fixed window; raises RateLimitedError
        when the count goes over `limit`."""
        start = _epoch(now) // window_seconds * window_seconds
        response = self._table.update_item(
            Key={"PK": f"RATE#{key}#{start}", "SK": "RATE"},
            UpdateExpression="ADD hits :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":one": 1, ":ttl": start + 2 * window_seconds},
            ReturnValues="UPDATED_NEW",
        )
        if int(response["Attributes"]["hits"]) > limit:
            error = RateLimitedError("too many requests; try again later")
            error.retry_after = start + window_seconds - _epoch(now)  # type: ignore[attr-defined]
            logger.warning("rate limited", extra={"window_seconds": window_seconds})
            raise error

    # -- organisation members -------------------------------------------------------------

    def add_member(self, organisation_id: str, email: str) -> None:
        self._table.put_item(
            Item={"PK": f"ORGMEMBER#{organisation_id}", "SK": email, "entity": "orgmember"}
        )

    def members(self, organisation_id: str) -> list[str]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(f"ORGMEMBER#{organisation_id}")
        }
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return [str(item["SK"]) for item in items]
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
