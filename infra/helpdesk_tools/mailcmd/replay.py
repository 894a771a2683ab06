"""`helpdesk mail replay PATH...`: deliver mail files, in order, into a fresh desk on a local
AWS endpoint, and print the tickets, the mails not turned into messages and the mail sent.

The endpoint is AWS_ENDPOINT_URL when set (it must be loopback); otherwise a moto server is
started in this process on 127.0.0.1 and stopped at the end. Each mail is stored where the SES
S3 action would store it and the ingest handler is invoked with an SES Lambda-action event;
the acknowledgements are then sent by the sender handler and read back from moto.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from helpdesk.domain.models import Direction

if TYPE_CHECKING:
    from helpdesk_tools.ingest_desk import LocalIngestDesk

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
_SHOWN_HEADERS = (
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "replay",
        help="deliver mail files into a fresh local desk and print what became of them",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument(
        "--domain", default="example.com", help="the support domain (default example.com)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Replay the mails; returns 0, or 2 for a missing path or a non-loopback endpoint."""
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(
            f"helpdesk mail replay: no such file or folder: {', '.join(missing)}", file=sys.stderr
        )
        return 2
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint and urlparse(endpoint).hostname not in _LOOPBACK:
        print("helpdesk mail replay: AWS_ENDPOINT_URL must be a loopback address", file=sys.stderr)
        return 2

    from helpdesk_tools.ingest_desk import mail_files

    files = mail_files(list(args.paths))
    # Everything the handlers log goes to stderr; stdout carries only the JSON report.
    with contextlib.redirect_stdout(sys.stderr), _endpoint(endpoint) as url:
        report = replay(files, endpoint=url, mail_domain=args.domain)
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    return 0


@contextlib.contextmanager
def _endpoint(endpoint: str | None) -> Iterator[str]:
    saved = dict(os.environ)
    server = None
    if not endpoint:
        from helpdesk_tools.local.aws import LocalAws

        server = LocalAws().start()
        endpoint = server.endpoint
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    for name, value in _CREDENTIALS.items():
        if server is not None or name not in os.environ:
            os.environ[name] = value
    try:
        yield endpoint
    finally:
        if server is not None:
            server.stop()
        os.environ.clear()
        os.environ.update(saved)


def replay(files: list[Path], *, endpoint: str, mail_domain: str) -> dict[str, Any]:
    """Deliver `files` in order into a fresh desk on `endpoint`; returns the report."""
    import boto3

    from helpdesk_tools.ingest_desk import LocalIngestDesk, sent_mail

    desk = LocalIngestDesk(boto3.session.Session(), mail_domain=mail_domain)
    start = datetime.now(UTC)
    source_of: dict[str, str] = {}
    not_messages: list[dict[str, Any]] = []
    numbers: list[int] = []
    for index, path in enumerate(files):
        # One minute apart, in the order given, so that the thread reads in that order.
        results = desk.deliver(path.read_bytes(), received_at=start + timedelta(minutes=index))
        for result in results:
            source_of[result["source_key"]] = str(path)
            number = result.get("ticket_number")
            if result["disposition"] == "rejected" or number is None:
                not_messages.append(
                    {"file": str(path), "outcome": result["outcome"], "reason": result["reason"]}
                )
            elif result["disposition"] == "duplicate":
                not_messages.append(
                    {
                        "file": str(path),
                        "outcome": result["outcome"],
                        "reason": "duplicate of an earlier mail (same Message-ID)",
                    }
                )
            if number is not None and number not in numbers:
                numbers.append(number)
    desk.drain_outbound()

    tickets = [_ticket_report(desk, number, source_of) for number in sorted(numbers)]
    provider_ids = {
        message["provider_message_id"]
        for ticket in tickets
        for message in ticket.pop("_outbound")
        if message.get("provider_message_id")
    }
    sent = [_sent_report(item) for item in sent_mail(endpoint, provider_ids)]
    return {"tickets": tickets, "not_turned_into_messages": not_messages, "sent": sent}


def _ticket_report(desk: LocalIngestDesk, number: int, source_of: dict[str, str]) -> dict[str, Any]:
    thread = desk.tickets.thread(number)
    ticket = thread.ticket
    messages = [
        {
            "file": source_of.get(message.source_key or ""),
            "direction": message.direction.value,
            "kind": message.kind.value,
            "author": message.author,
            "message_id": message.message_id,
            "visible_text": message.visible_text,
            "attachments": [a.filename for a in message.attachments],
            "skipped": [{"filename": s.filename, "reason": s.reason} for s in message.skipped],
            "verdicts": message.verdicts,
            "delivery_state": message.delivery_state.value if message.delivery_state else None,
        }
        for message in thread.messages
    ]
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "requester": ticket.requester,
        "status": ticket.status.value,
        "suspended": ticket.suspended,
        "team": ticket.team,
        "messages": messages,
        "_outbound": [
            {"provider_message_id": m.provider_message_id}
            for m in thread.messages
            if m.direction == Direction.OUTBOUND
        ],
    }


def _sent_report(item: dict[str, Any]) -> dict[str, Any]:
    from email import message_from_string
    from email.policy import default

    mail = message_from_string(item.get("raw_data", ""), policy=default)
    return {
        "to": list(dict.fromkeys(item.get("destinations", []))),
        "subject": str(mail.get("Subject", "")),
        "headers": {name: str(mail[name]) for name in _SHOWN_HEADERS if mail[name] is not None},
    }
