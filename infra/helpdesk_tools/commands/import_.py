"""`helpdesk import FILE`: load an exported state file into the running local desk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="load an exported JSON state file into the running local desk",
        description="Write every item and object of FILE into the running desk. To start a "
        "desk from a file instead, use `helpdesk start --state FILE`.",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--state-dir", type=Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local import state
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    try:
        info = read_stack_info(args.state_dir or STATE_DIR)
        document = state.load(args.file)
        counts = state.import_state(info.session(), document, info.tables, info.buckets)
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"imported {counts['items']} items and {counts['objects']} objects from {args.file}")
    return 0
