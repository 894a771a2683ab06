"""Pages over one or more index partitions, merged in sort order, with filters applied on the
server and positions that resume exactly where the last page stopped.

A position per partition is the full key of the last item consumed from it (table key plus
index key), so a page that stops half-way through a DynamoDB page loses nothing and repeats
nothing. Work per request is bounded: a page may come back short, with a cursor, when many
items were examined and few matched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpdesk.data.items import from_item
from helpdesk.domain.models import Ticket

DONE = "done"


@dataclass
class _Partition:
    value: str
    position: dict[str, Any] | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    exhausted: bool = False


@dataclass
class Merged:
    tickets: list[Ticket]
    positions: dict[str, Any] | None


def merged_page(
    table: Any,
    *,
    index: str,
    partition_key: str,
    sort_key: str,
    partitions: list[str],
    descending: bool,
    accept: Callable[[Ticket], bool],
    limit: int,
    positions: dict[str, Any] | None,
    max_examined: int = 2000,
) -> Merged:
    """Up to `limit` accepted tickets from `partitions` of `index`, merged by `sort_key`.

    `positions` is what an earlier call returned (None to start); the result's `positions` is
    None when every partition is exhausted.
    """
    state = [
        _Partition(value, _position(positions, value))
        for value in partitions
        if (positions or {}).get(value) != DONE
    ]
    fetch = min(max(limit * 2, 25), 200)
    tickets: list[Ticket] = []
    examined = 0
    while len(tickets) < limit and examined < max_examined:
        for part in state:
            if not part.buffer and not part.exhausted:
                _fill(table, part, index, partition_key, descending, fetch)
        live = [part for part in state if part.buffer]
        if not live:
            break
        chosen = (max if descending else min)(
            live, key=lambda part: (part.buffer[0][sort_key], part.buffer[0]["PK"])
        )
        item = chosen.buffer.pop(0)
        chosen.position = {
            name: item[name] for name in ("PK", "SK", partition_key, sort_key) if name in item
        }
        examined += 1
        ticket = Ticket.model_validate(from_item(item))
        if accept(ticket):
            tickets.append(ticket)
    finished = {part.value: DONE for part in state if part.exhausted and not part.buffer}
    done_before = {value: DONE for value, pos in (positions or {}).items() if pos == DONE}
    if len(finished) == len(state):
        return Merged(tickets, None)
    next_positions: dict[str, Any] = {**done_before, **finished}
    for part in state:
        if part.value not in finished:
            next_positions[part.value] = part.position
    return Merged(tickets, next_positions)


def _position(positions: dict[str, Any] | None, value: str) -> dict[str, Any] | None:
    found = (positions or {}).get(value)
    return found if isinstance(found, dict) else None


def _fill(
    table: Any, part: _Partition, index: str, partition_key: str, descending: bool, fetch: int
) -> None:
    kwargs: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": f"{partition_key} = :pk",
        "ExpressionAttributeValues": {":pk": part.value},
        "ScanIndexForward": not descending,
        "Limit": fetch,
    }
    if part.position:
        kwargs["ExclusiveStartKey"] = part.position
    response = table.query(**kwargs)
    part.buffer = list(response.get("Items", []))
    if "LastEvaluatedKey" not in response:
        part.exhausted = True
    elif not part.buffer:
        # An empty page that is not the last: carry on from where DynamoDB stopped.
        part.position = response["LastEvaluatedKey"]


def read_all(
    table: Any, *, index: str, partition_key: str, partitions: list[str], cap: int
) -> list[Ticket]:
    """Every ticket of `partitions` (at most `cap`), for orders no index holds."""
    tickets: list[Ticket] = []
    for value in partitions:
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{partition_key} = :pk",
            "ExpressionAttributeValues": {":pk": value},
        }
        while len(tickets) < cap:
            response = table.query(**kwargs)
            tickets.extend(Ticket.model_validate(from_item(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return tickets[:cap]
