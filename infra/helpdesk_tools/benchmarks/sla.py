"""`helpdesk bench sla`: the SLA sweep's cost against moto, with many open tickets and few due.

For each size, a fresh table from template.yaml is loaded (with batch writes of the very items
the repository writes, index keys included) with N open tickets, of which `--due` are past
their first-response deadline; the others have every deadline days away. Then it measures:

- the due-index query alone (what `due_before` reads): items returned, items scanned and the
  read capacity DynamoDB reports for it;
- one full sweep: it breaches and records the due tickets (milliseconds, items read,
  requests by operation);
- a second sweep straight after, with nothing left due (the idle cost of every minute).

Then, at `--series-size` open tickets, the same with other numbers due (`--due-series`), so
that the figures can be read both ways: flat as the open tickets grow, growing with the due.

A Scan of the table, which the sweep never does, would read every ticket (N items and more).
Everything runs against a moto server this command starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Priority, Ticket
from helpdesk.sla.notify import Notifier
from helpdesk.sla.policy import SlaPolicy, Targets
from helpdesk.sla.service import SlaStore, refresh_ticket
from helpdesk.sla.sweep import SlaSweep

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
POLICY = SlaPolicy(
    id="bench",
    business_hours=False,
    targets={
        Priority.URGENT: Targets(first_response=60, resolution=24 * 60),
        Priority.LOW: Targets(first_response=7 * 24 * 60, resolution=30 * 24 * 60),
    },
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sla", help="the SLA sweep's items read and milliseconds with 1k-100k open tickets"
    )
    parser.add_argument(
        "--sizes", default="1000,10000,100000", help="open tickets per run, comma-separated"
    )
    parser.add_argument("--due", type=int, default=100, help="how many of them are due")
    parser.add_argument(
        "--due-series",
        default="10,1000",
        help="then, at --series-size open tickets, these numbers due (comma-separated; empty"
        " for none), to show the cost following the due tickets",
    )
    parser.add_argument("--series-size", type=int, default=10000)
    parser.add_argument(
        "--load",
        choices=("backend", "batch"),
        default="backend",
        help="how to load the tickets: straight into the in-process moto backend (fast), or with"
        " BatchWriteItem over HTTP (about 6.5 ms an item in moto)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


@dataclass
class Meter:
    """Counts DynamoDB requests, items returned and scanned, and capacity, per operation."""

    requests: Counter[str] = field(default_factory=Counter)
    items: int = 0
    scanned: int = 0
    capacity: float = 0.0
    bytes_read: int = 0

    def reset(self) -> None:
        self.requests.clear()
        self.items = self.scanned = self.bytes_read = 0
        self.capacity = 0.0

    @property
    def estimated_rcu(self) -> float:
        """Eventually consistent read units for the bytes read: 4 KB a unit, halved."""
        return math.ceil(self.bytes_read / 4096) / 2

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb.*", self._ask_capacity)
        client.meta.events.register("after-call.dynamodb.*", self._count)

    def _ask_capacity(self, params: dict[str, Any], **_: Any) -> None:
        if "TransactItems" not in params and "RequestItems" not in params:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        if model.name in {"Query", "Scan"}:
            self.items += int(parsed.get("Count", 0))
            self.scanned += int(parsed.get("ScannedCount", 0))
            self.bytes_read += sum(_size(item) for item in parsed.get("Items", []))
        elif model.name == "GetItem" and "Item" in parsed:
            self.items += 1
            self.bytes_read += _size(parsed["Item"])
        consumed = parsed.get("ConsumedCapacity")
        if isinstance(consumed, dict) and model.name in {"Query", "Scan", "GetItem"}:
            self.capacity += float(consumed.get("CapacityUnits", 0))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its figures; 0 on success, 2 for bad arguments."""
    try:
        cases = [(int(size), args.due) for size in args.sizes.split(",") if size]
        cases += [(args.series_size, int(due)) for due in args.due_series.split(",") if due]
    except ValueError:
        print("helpdesk bench sla: --sizes and --due-series take whole numbers, e.g. 1000,10000")
        return 2
    if any(size < due for size, due in cases):
        print("helpdesk bench sla: every size must hold at least as many due tickets")
        return 2

    from helpdesk_tools.local.aws import LocalAws
    from helpdesk_tools.template import create_stack

    server = LocalAws().start()
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_env(server.endpoint))
    try:
        session = boto3.session.Session(region_name="us-east-1")
        rows = [_measure(session, create_stack, size, due, args.load) for size, due in cases]
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    print(json.dumps(rows, indent=2) if args.json else _table(rows))
    return 0


def _measure(session: Any, create_stack: Any, size: int, due: int, load: str) -> dict[str, Any]:
    stack = create_stack(session, prefix=f"bench{uuid.uuid4().hex[:8]}")
    table = session.resource("dynamodb").Table(stack.tables["Table"])
    meter = Meter()
    meter.attach(table.meta.client)
    repo = TicketRepository(table)
    config = ConfigRepository(table)
    config.put("sla_policy", POLICY.id, POLICY)

    started = time.perf_counter()
    _load(repo, table, SlaStore(config), size, due, load)
    load_seconds = time.perf_counter() - started

    meter.reset()
    started = time.perf_counter()
    found = repo.due_before(NOW, limit=10 * due + 10)
    query_ms = (time.perf_counter() - started) * 1000
    query = {
        "items": meter.items,
        "scanned": meter.scanned,
        "kb": round(meter.bytes_read / 1024, 1),
        "estimated_rcu": meter.estimated_rcu,
        "moto_capacity": meter.capacity,
    }

    # The function sweeps at most 500 tickets a minute by default; here one sweep takes all.
    sweep = SlaSweep(repo, SlaStore(config), Notifier({}), limit=max(500, due))
    meter.reset()
    started = time.perf_counter()
    report = sweep.run(now=NOW)
    sweep_ms = (time.perf_counter() - started) * 1000
    first = {
        "items": meter.items,
        "kb": round(meter.bytes_read / 1024, 1),
        "requests": dict(meter.requests),
    }

    meter.reset()
    started = time.perf_counter()
    idle = sweep.run(now=NOW + timedelta(seconds=1))
    idle_ms = (time.perf_counter() - started) * 1000
    return {
        "open_tickets": size,
        "due_tickets": due,
        "load_seconds": round(load_seconds, 1),
        "index_query": {**query, "found": len(found), "ms": round(query_ms, 1)},
        "sweep": {**first, "breaches": report.breaches, "ms": round(sweep_ms, 1)},
        "idle_sweep": {
            "items": meter.items,
            "kb": round(meter.bytes_read / 1024, 1),
            "due": idle.due,
            "ms": round(idle_ms, 1),
        },
    }


def _load(
    repo: TicketRepository, table: Any, store: SlaStore, size: int, due: int, load: str
) -> None:
    rules = store.rules()
    templates = {
        True: _template(Priority.URGENT, rules),
        False: _template(Priority.LOW, rules),
    }
    items = (
        repo.ticket_item(
            templates[number <= due].model_copy(
                update={"number": number, "subject": f"ticket {number}", "version": 1}
            )
        )
        for number in range(1, size + 1)
    )
    if load == "batch":
        with table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)
        return
    _load_into_moto(table.name, items)


def _load_into_moto(table_name: str, items: Any) -> None:
    """Put items straight into the in-process moto backend, sharing unchanged attributes.

    NOTE: moto re-sizes the whole item on every attribute it sets (about 3 ms a ticket item),
    so 100k tickets take minutes over HTTP or through its put_item. The items here are the
    repository's own (`TicketRepository.ticket_item`); only the loading skips moto's checks.
    The sweep and the index query that are measured go over HTTP as in Lambda.
    """
    from boto3.dynamodb.types import TypeSerializer
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    moto_table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(table_name)
    serializer = TypeSerializer()
    shared: dict[tuple[str, str], Any] = {}
    for item in items:
        attrs = {}
        for name, value in item.items():
            key = (name, repr(value))
            if key not in shared:
                typed: dict[str, Any] = dict(serializer.serialize(value))
                shared[key] = DynamoType(typed)
            attrs[name] = shared[key]
        stored: Any = Item.__new__(Item)
        stored.hash_key = attrs["PK"]
        stored.range_key = attrs["SK"]
        stored.attrs = LimitedSizeDict(attrs)
        moto_table.items[stored.hash_key][stored.range_key] = stored


def _template(priority: Priority, rules: Any) -> Ticket:
    created = NOW - timedelta(hours=2)
    ticket = Ticket(
        number=1,
        subject="template",
        requester="bench@example.org",
        priority=priority,
        created_at=created,
        updated_at=created,
    )
    event = AuditEvent(ticket_number=1, at=created, actor="bench", action="created")
    return refresh_ticket(ticket, [], [event], rules, now=created)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "open tickets | due | index query: items / scanned / kB / est. RCU / ms"
        " | sweep: items read / kB / ms / breaches | idle sweep: items / ms | load s",
    ]
    for row in rows:
        query, sweep, idle = row["index_query"], row["sweep"], row["idle_sweep"]
        lines.append(
            f"{row['open_tickets']:>12,} | {row['due_tickets']:>3} | "
            f"{query['items']} / {query['scanned']} / {query['kb']} / {query['estimated_rcu']:g}"
            f" / {query['ms']:.1f} | {sweep['items']} / {sweep['kb']} / {sweep['ms']:.1f}"
            f" / {sweep['breaches']} | {idle['items']} / {idle['ms']:.1f} | {row['load_seconds']}"
        )
    lines.append("sweep requests, last row: " + json.dumps(rows[-1]["sweep"]["requests"]))
    lines.append(
        "a Scan would read every ticket; moto's own query time grows with the table because it"
        " walks all items for an index query (see the idle sweep, which returns nothing)"
    )
    return "\n".join(lines)


def _size(item: dict[str, Any]) -> int:
    return len(json.dumps(item, default=str).encode())


_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
)


def _env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
