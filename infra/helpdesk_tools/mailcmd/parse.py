"""`helpdesk mail parse PATH...`: parse mail files or folders and print one JSON line per mail."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpdesk.mail.model import ParsedMail
from helpdesk.mail.parse import parse_mail

KEYS = (
    "file",
    "outcome",
    "reason",
    "subject",
    "requester",
    "requester_name",
    "message_id",
    "in_reply_to",
    "references",
    "text",
    "visible_text",
    "html",
    "attachments",
    "defects",
    "error",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse mail files (or folders, recursively) and print one JSON object per mail",
        description="Parse raw mails without touching AWS; one JSON object per line.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a mail file or a folder")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print one JSON line per mail file; 0 even for rejected mails, 2 for a missing path."""
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"helpdesk mail parse: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2

    received_at = datetime.now(UTC)
    for path in mail_files(paths):
        try:
            raw = path.read_bytes()
        except OSError as error:
            print(f"helpdesk mail parse: cannot read {path}: {error}", file=sys.stderr)
            continue
        mail = parse_mail(raw, received_at=received_at)
        line = json.dumps(as_json(str(path), mail), ensure_ascii=False)
        sys.stdout.write(line + "\n")
    return 0


def mail_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and every file under the folders named (sorted), in the order given."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def as_json(file: str, mail: ParsedMail) -> dict[str, Any]:
    """The JSON object printed for one mail: exactly the keys in KEYS."""
    return {
        "file": file,
        "outcome": mail.outcome.value,
        "reason": mail.reason,
        "subject": mail.subject,
        "requester": mail.requester,
        "requester_name": mail.requester_name,
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "text": mail.text,
        "visible_text": mail.visible_text,
        "html": mail.html,
        "attachments": [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in mail.attachments
        ],
        "defects": list(mail.defects),
        "error": mail.error,
    }
