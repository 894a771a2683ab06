"""`helpdesk send PATH...`: deliver mail files, or folders of them, to the running local desk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="send mail files or folders to the running local desk over SMTP",
        description="Send each mail file (folders: their .eml files, sorted by name) through "
        "the running desk's SMTP server to the support address.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--to", help="envelope recipient (default: the support address)")
    parser.add_argument("--state-dir", type=Path, help="where the running stack is described")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local.seed import deliver, file_mails, mail_files
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    try:
        info = read_stack_info(args.state_dir or STATE_DIR)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    files = [file for path in args.paths for file in mail_files(path)]
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    accepted, refused = deliver(
        file_mails(files),
        info.smtp_host,
        info.smtp_port,
        args.to or info.support_address,
        total=len(files),
        progress=len(files) > 1,
        description="sending",
    )
    print(f"{accepted} sent, {refused} refused, to {args.to or info.support_address}")
    return 0 if not refused else 1
