"""`helpdesk mail`: parse mail files without AWS, or replay them into a fresh local desk."""

from __future__ import annotations

from typing import Any

from helpdesk_tools import mailcmd
from helpdesk_tools.groups import register_group


def register(subparsers: Any) -> None:
    register_group(subparsers, "mail", "parse or replay mail files", mailcmd)
