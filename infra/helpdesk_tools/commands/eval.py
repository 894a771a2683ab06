"""`helpdesk eval`: de-duplication, triage and knowledge-base quality on data given by path."""

from __future__ import annotations

from typing import Any

from helpdesk_tools import evaluation
from helpdesk_tools.groups import register_group


def register(subparsers: Any) -> None:
    register_group(subparsers, "eval", "measure quality on a data set", evaluation)
