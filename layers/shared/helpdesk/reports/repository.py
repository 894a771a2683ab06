"""Report counters in the one table, applied once per stream record, read a few items a day.

| item | PK | SK |
|---|---|---|
| a day's counter or list | REPORT#<yyyy-mm-dd> | <metric>#<dimension> |
| open tickets by the day they were created | REPORT#backlog | open#<yyyy-mm-dd> |
| open tickets per agent | REPORT#load | open#agent=<id> |
| a stream record already applied | APPLIED#<event id> | APPLIED (expires after a day) |
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data.items import from_item
from helpdesk.reports.counters import Delta

logger = logging.getLogger(__name__)

MAX_TRANSACTION = 100
APPLIED_TTL = timedelta(days=1)


class ReportRepository:
    """Reads and writes report counters. Takes a boto3 Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def apply(self, event_id: str, deltas: list[Delta], *, now: datetime) -> bool:
        """Apply `deltas` once for the stream record `event_id`; False if already applied.

        The marker and the first counters share a transaction, so a retried record neither
        counts twice nor loses its counts. Deltas beyond one transaction's size follow in
        further transactions, each with its own marker.
        """
        merged = _merge(deltas)
        chunks = [merged[i : i + MAX_TRANSACTION - 1] for i in range(0, len(merged), 99)] or [[]]
        applied_any = False
        for index, chunk in enumerate(chunks):
            marker = f"{event_id}#{index}"
            actions = [self._marker(marker, now)] + [self._update(delta) for delta in chunk]
            try:
                self._table.meta.client.transact_write_items(TransactItems=actions)
                applied_any = True
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                    logger.warning("stream record already counted", extra={"event": event_id})
                    continue
                raise
        return applied_any

    def day_items(self, start: date, end: date) -> list[dict[str, Any]]:
        """Every counter item from `start` to `end` inclusive (one Query per day)."""
        items: list[dict[str, Any]] = []
        day = start
        while day <= end:
            items += self._partition(f"REPORT#{day.isoformat()}", day=day.isoformat())
            day += timedelta(days=1)
        return items

    def backlog(self) -> dict[str, int]:
        """Open tickets by the day they were created."""
        return {
            item["dimension"]: int(item.get("count", 0))
            for item in self._partition("REPORT#backlog", day="backlog")
        }

    def loads(self) -> dict[str, int]:
        """Open tickets per agent."""
        return {
            item["dimension"].removeprefix("agent="): int(item.get("count", 0))
            for item in self._partition("REPORT#load", day="load")
        }

    def _partition(self, pk: str, *, day: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": pk},
        }
        while True:
            response = self._table.query(**kwargs)
            for item in response.get("Items", []):
                metric, _, dimension = str(item["SK"]).partition("#")
                plain = from_item(item)
                items.append({**plain, "day": day, "metric": metric, "dimension": dimension})
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _marker(self, marker: str, now: datetime) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": {
                    "PK": f"APPLIED#{marker}",
                    "SK": "APPLIED",
                    "ttl": int((now + APPLIED_TTL).timestamp()),
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def _update(self, delta: _Merged) -> dict[str, Any]:
        parts = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        if delta.count:
            parts.append("ADD #count :count")
            values[":count"] = delta.count
            names["#count"] = "count"
        if delta.values:
            names["#values"] = "values"
            parts.append("SET #values = list_append(if_not_exists(#values, :empty), :values)")
            values[":values"] = [_decimal(v) for v in delta.values]
            values[":empty"] = []
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": {"PK": f"REPORT#{delta.day}", "SK": f"{delta.metric}#{delta.dimension}"},
                "UpdateExpression": " ".join(parts),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }


class _Merged:
    def __init__(self, day: str, metric: str, dimension: str) -> None:
        self.day, self.metric, self.dimension = day, metric, dimension
        self.count = 0
        self.values: list[float] = []


def _merge(deltas: list[Delta]) -> list[_Merged]:
    merged: dict[tuple[str, str, str], _Merged] = {}
    for delta in deltas:
        key = (delta.day, delta.metric, delta.dimension)
        entry = merged.setdefault(key, _Merged(*key))
        entry.count += delta.count
        if delta.value is not None:
            entry.values.append(delta.value)
    return [entry for entry in merged.values() if entry.count or entry.values]


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))
