"""The `helpdesk` command line; each subcommand lives in its own module under `commands/`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from helpdesk_tools import commands


def build_parser() -> argparse.ArgumentParser:
    """The parser, with every module in `helpdesk_tools.commands` registered as a subcommand."""
    parser = argparse.ArgumentParser(
        prog="helpdesk",
        description="A serverless help desk for AWS: run it locally, feed it mail, evaluate it.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (2 for a usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
