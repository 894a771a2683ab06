"""A cap on automatic mail to any one address: a conditional counter per address and hour.

Each hour window is one item, `PK = RATE#<address hash>#<yyyymmddhh>`, `SK = RATE`, counted
with a conditional `ADD` that refuses once the limit is reached, and carrying a `ttl` so
DynamoDB deletes it after the window (moto does not expire items; nothing depends on that).
The address is hashed, so the table holds no address book.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)

RATE_SK = "RATE"
_KEEP_FOR = timedelta(hours=2)


def rate_pk(address: str, now: datetime) -> str:
    """The counter's partition key for `address` in the hour that contains `now`."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    return f"RATE#{digest}#{now.astimezone(UTC):%Y%m%d%H}"


class AutoMailLimiter:
    """Counts automatic mails per address and hour. Takes a DynamoDB Table from the caller."""

    def __init__(self, table: Any, limit_per_hour: int) -> None:
        self._table = table
        self._limit = limit_per_hour

    def allow(self, address: str, *, now: datetime) -> bool:
        """Count one automatic mail to `address`; False (and nothing counted) over the limit."""
        if self._limit <= 0:
            return False
        expires = int((now + _KEEP_FOR).timestamp())
        try:
            self._table.update_item(
                Key={"PK": rate_pk(address, now), "SK": RATE_SK},
                UpdateExpression="ADD #count :one SET #ttl = :ttl, entity = :entity",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": self._limit,
                    ":ttl": expires,
                    ":entity": "rate",
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            logger.warning("automatic mail rate limited", extra={"limit": self._limit})
            return False
        return True
