"""`helpdesk replay DATASET`: a data set replayed as mail into the running local desk.

A CSV file with a text column (and optionally a category) becomes one mail per row from a pool
of requesters; a folder of mail files is sent file by file.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay a data set (CSV of text,category or a folder of mails) as mail",
        description="Replay a data set into the running desk as real mail over SMTP.",
    )
    parser.add_argument("dataset", type=Path, metavar="DATASET")
    parser.add_argument("--limit", type=int, default=200, help="at most this many rows")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="category")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the requesters")
    parser.add_argument("--state-dir", type=Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local.seed import dataset_mails, deliver, file_mails, mail_files, read_rows
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    try:
        info = read_stack_info(args.state_dir or STATE_DIR)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    if args.dataset.is_dir():
        files = mail_files(args.dataset)[: args.limit]
        mails, total = file_mails(files, origin="replay"), len(files)
    elif args.dataset.suffix.lower() == ".csv":
        try:
            rows = read_rows(args.dataset, args.text_column, args.label_column)[: args.limit]
        except KeyError as error:
            print(f"{args.dataset} has no column {error}", file=sys.stderr)
            return 2
        mails = dataset_mails(
            rows,
            count=len(rows),
            rng=random.Random(args.seed),
            support=info.support_address,
            now=datetime.now(UTC),
        )
        total = len(rows)
    else:
        print(f"{args.dataset}: give a .csv file or a folder of mail files", file=sys.stderr)
        return 2
    accepted, refused = deliver(
        mails, info.smtp_host, info.smtp_port, info.support_address, total=total,
        description="replaying",
    )  # fmt: skip
    print(f"replayed {accepted} mails ({refused} refused) from {args.dataset}")
    return 0
