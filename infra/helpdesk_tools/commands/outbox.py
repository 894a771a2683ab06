"""`helpdesk outbox`: the mail the running local desk sent through SES, with its headers."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

_SHOWN = ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
          "Reply-To", "Auto-Submitted")  # fmt: skip


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "outbox", help="list the mail the running local desk sent (SES), with headers"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per mail")
    parser.add_argument("--all-headers", action="store_true")
    parser.add_argument("--body", action="store_true", help="print each mail's text too")
    parser.add_argument("--last", type=int, help="only the last N mails")
    parser.add_argument("--state-dir", type=Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local.outbox import read_gateway
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    try:
        info = read_stack_info(args.state_dir or STATE_DIR)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    mails = read_gateway(info.gateway)
    if args.last:
        mails = mails[-args.last :]
    for mail in mails:
        if args.json:
            print(json.dumps(mail.as_dict()))
            continue
        print(f"--- {mail.id}  to {', '.join(mail.destinations)}")
        for name, value in mail.headers:
            if args.all_headers or name in _SHOWN:
                print(f"{name}: {value}")
        if args.body:
            print()
            print(mail.text.rstrip())
        print()
    if not args.json:
        print(f"{len(mails)} mails sent  (also at {info.outbox_url})")
    return 0
