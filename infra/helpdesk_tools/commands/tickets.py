"""`helpdesk tickets list|show N`: the running local desk's tickets, read from its table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tickets", help="list the local desk's tickets or show one")
    inner = parser.add_subparsers(dest="tickets_command", metavar="COMMAND")
    listing = inner.add_parser("list", help="every ticket, newest first")
    listing.add_argument("--status", help="only tickets in this status")
    listing.add_argument("--limit", type=int, default=50, help="at most N (0: all)")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--state-dir", type=Path)
    listing.set_defaults(handler=run_list)
    show = inner.add_parser("show", help="one ticket with its thread")
    show.add_argument("number", type=int)
    show.add_argument("--json", action="store_true")
    show.add_argument("--state-dir", type=Path)
    show.set_defaults(handler=run_show)

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)


def _table(args: argparse.Namespace) -> Any:
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    info = read_stack_info(args.state_dir or STATE_DIR)
    return info.session().resource("dynamodb").Table(info.tables["Table"])


def run_list(args: argparse.Namespace) -> int:
    from helpdesk.data.items import from_item
    from helpdesk.domain.models import Ticket

    try:
        table = _table(args)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "FilterExpression": "SK = :sk",
        "ExpressionAttributeValues": {":sk": "TICKET"},
    }
    while True:
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    tickets = sorted(
        (Ticket.model_validate(from_item(item)) for item in items),
        key=lambda ticket: ticket.number,
        reverse=True,
    )
    if args.status:
        tickets = [ticket for ticket in tickets if ticket.status.value == args.status]
    total = len(tickets)
    if args.limit:
        tickets = tickets[: args.limit]
    for ticket in tickets:
        if args.json:
            print(ticket.model_dump_json())
            continue
        category = (ticket.triage.category if ticket.triage else None) or ticket.category or "-"
        print(
            f"#{ticket.number:<5} {ticket.status.value:<9} {ticket.priority.value:<7} "
            f"{category[:18]:<18} {ticket.requester[:32]:<32} {ticket.subject[:60]}"
        )
    if not args.json:
        print(f"{len(tickets)} of {total} tickets")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from helpdesk.data.tickets import TicketRepository
    from helpdesk.exceptions import NotFoundError

    try:
        thread = TicketRepository(_table(args)).thread(args.number)
    except (FileNotFoundError, NotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    ticket = thread.ticket
    if args.json:
        print(
            json.dumps(
                {
                    "ticket": ticket.model_dump(mode="json"),
                    "messages": [m.model_dump(mode="json") for m in thread.messages],
                }
            )
        )
        return 0
    print(f"#{ticket.number} {ticket.subject}")
    print(
        f"  requester {ticket.requester_name} <{ticket.requester}>  status {ticket.status.value}"
        f"  priority {ticket.priority.value}  team {ticket.team or '-'}"
        f"  category {ticket.category or '-'}  channel {ticket.channel.value}"
    )
    for name, clock in (
        ("first response", ticket.sla.first_response),
        ("resolution", ticket.sla.resolution),
    ):
        if clock.due:
            state = "breached" if clock.breached_at else "met" if clock.met_at else "due"
            print(f"  {name}: {state} {clock.due.isoformat()}")
    for message in thread.messages:
        print()
        print(
            f"--- {message.created_at:%Y-%m-%d %H:%M} {message.direction.value} "
            f"{message.kind.value} by {message.author}"
            + (f" [{message.delivery_state.value}]" if message.delivery_state else "")
        )
        if message.message_id:
            print(f"    Message-ID: {message.message_id}")
        print((message.visible_text or message.text).rstrip())
    return 0
