"""`helpdesk bench`: speed and memory, side by side in one run."""

from __future__ import annotations

from typing import Any

from helpdesk_tools import benchmarks
from helpdesk_tools.groups import register_group


def register(subparsers: Any) -> None:
    register_group(subparsers, "bench", "measure speed and memory", benchmarks)
