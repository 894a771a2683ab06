"""`helpdesk export FILE`: the running local desk's state (table items, stored objects) as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export", help="save the running local desk (items and objects) to a JSON file"
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--state-dir", type=Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local import state
    from helpdesk_tools.local.stack import STATE_DIR, read_stack_info

    try:
        info = read_stack_info(args.state_dir or STATE_DIR)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    document = state.export_state(info.session(), info.tables, info.buckets)
    state.save(document, args.file)
    items = sum(len(values) for values in document["tables"].values())
    objects = sum(len(values) for values in document["buckets"].values())
    print(f"exported {items} items and {objects} objects to {args.file}")
    return 0
