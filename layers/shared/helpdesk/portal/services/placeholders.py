"""Placeholders in canned responses and macro replies: {{requester.name}}, {{ticket.number}}."""

from __future__ import annotations

import re

from helpdesk.domain.models import Ticket

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")


def render(
    template: str,
    ticket: Ticket,
    *,
    agent_name: str,
    agent_email: str,
    team_name: str | None = None,
) -> str:
    """The template with known placeholders filled in; unknown ones stay as written."""
    values = {
        ("requester", "name"): ticket.requester_name or ticket.requester.split("@")[0],
        ("requester", "email"): ticket.requester,
        ("ticket", "number"): str(ticket.number),
        ("ticket", "subject"): ticket.subject,
        ("ticket", "status"): ticket.status.value,
        ("ticket", "priority"): ticket.priority.value,
        ("agent", "name"): agent_name,
        ("agent", "email"): agent_email,
        ("team", "name"): team_name or ticket.team or "",
    }

    def fill(found: re.Match[str]) -> str:
        return values.get((found.group(1), found.group(2)), found.group(0))

    return _PLACEHOLDER.sub(fill, template)
