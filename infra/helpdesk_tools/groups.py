"""Command groups whose subcommands are discovered from a package, one module each."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from types import ModuleType
from typing import Any


def register_group(subparsers: Any, name: str, help_text: str, package: ModuleType) -> None:
    """Add `name` as a group; each module of `package` with `register(subparsers)` joins it."""
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    inner = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")

    def usage(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(handler=usage)
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(inner)
