"""The agents' queue: per-team views with filters, four orders and signed cursors.

created and priority orders read the queue indexes (GSI2 by creation, GSI3 by priority then
due) partition by partition, merged; the other filters apply on the server while paging.
updated and due orders have no index: they read the selected queues up to a cap, sort in
memory and page by offset.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from helpdesk.data import keys
from helpdesk.domain.models import Channel, Priority, Status, Team, Ticket
from helpdesk.exceptions import ValidationError
from helpdesk.portal.auth import AgentPrincipal
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import QueuePage, QueueQuery
from helpdesk.portal.services.paging import merged_page, read_all
from helpdesk.portal.views import next_due, sla_state, summary

SLA_STATES = {"ok", "warning", "breached", "paused", "none"}
NO_TEAM_NAMES = {"-", "none"}


def list_queue(
    portal: Portal, agent: AgentPrincipal, query: QueueQuery, *, now: datetime
) -> QueuePage:
    """One page of the queue; raises ValidationError naming a bad filter or cursor."""
    statuses = _statuses(query.status)
    teams = _teams(portal, query.team)
    partitions = [keys.queue_pk(team, status) for team in teams for status in statuses]
    accept = _filter(query, agent, now)
    bound = _binding(agent, query)
    position = portal.cursors.open(query.cursor, bound_to=bound) if query.cursor else None

    if query.sort in ("created", "priority"):
        by_priority = query.sort == "priority"
        descending = (query.order or ("asc" if by_priority else "desc")) == "desc"
        merged = merged_page(
            portal.table,
            index=keys.INDEX_URGENCY if by_priority else keys.INDEX_QUEUE,
            partition_key="GSI3PK" if by_priority else "GSI2PK",
            sort_key="GSI3SK" if by_priority else "GSI2SK",
            partitions=partitions,
            descending=descending,
            accept=accept,
            limit=query.limit,
            positions=position if isinstance(position, dict) else None,
        )
        tickets, next_position = merged.tickets, merged.positions
    else:
        tickets, next_position = _sorted_in_memory(portal, partitions, query, accept, position)

    cursor = portal.cursors.sign(next_position, bound_to=bound) if next_position else None
    return QueuePage(tickets=[summary(ticket, now) for ticket in tickets], cursor=cursor)


def _sorted_in_memory(
    portal: Portal, partitions: list[str], query: QueueQuery, accept: Any, position: Any
) -> tuple[list[Ticket], Any]:
    offset = position.get("offset", 0) if isinstance(position, dict) else 0
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError("the cursor is not valid", field="cursor")
    candidates = read_all(
        portal.table,
        index=keys.INDEX_QUEUE,
        partition_key="GSI2PK",
        partitions=partitions,
        cap=portal.settings.queue_scan_limit,
    )
    matching = [ticket for ticket in candidates if accept(ticket)]
    descending = (query.order or ("desc" if query.sort == "updated" else "asc")) == "desc"
    if query.sort == "updated":
        matching.sort(key=lambda t: (t.updated_at, t.number), reverse=descending)
    else:
        with_due = [t for t in matching if next_due(t) is not None]
        without = [t for t in matching if next_due(t) is None]
        with_due.sort(key=lambda t: (next_due(t), t.number), reverse=descending)
        matching = with_due + sorted(without, key=lambda t: t.number)
    page = matching[offset : offset + query.limit]
    more = offset + query.limit < len(matching)
    return page, ({"offset": offset + query.limit} if more else None)


def _statuses(value: str) -> list[str]:
    if value.strip() == "all":
        return [status.value for status in Status]
    names = [part.strip() for part in value.split(",") if part.strip()]
    allowed = {status.value for status in Status}
    if not names or any(name not in allowed for name in names):
        raise ValidationError(f"status must be one or more of {sorted(allowed)}", field="status")
    return names


def _teams(portal: Portal, team: str | None) -> list[str | None]:
    if team is None or team == "all":
        return [*(t.id for t in portal.config.list("teams", Team)), None]
    if team in NO_TEAM_NAMES:
        return [None]
    return [team]


def _choices(value: str | None, allowed: set[str], field: str) -> set[str] | None:
    if value is None:
        return None
    names = {part.strip() for part in value.split(",") if part.strip()}
    if not names or not names <= allowed:
        raise ValidationError(f"{field} must be one or more of {sorted(allowed)}", field=field)
    return names


def _filter(query: QueueQuery, agent: AgentPrincipal, now: datetime) -> Any:
    priorities = _choices(query.priority, {p.value for p in Priority}, "priority")
    channels = _choices(query.channel, {c.value for c in Channel}, "channel")
    slas = _choices(query.sla, SLA_STATES, "sla")
    assignee = agent.id if query.assignee == "me" else query.assignee
    text = query.q.casefold().strip() if query.q else None

    def accept(ticket: Ticket) -> bool:
        if priorities and ticket.priority.value not in priorities:
            return False
        if channels and ticket.channel.value not in channels:
            return False
        if assignee is not None:
            if assignee in NO_TEAM_NAMES:
                if ticket.assignee is not None:
                    return False
            elif ticket.assignee != assignee:
                return False
        if query.category is not None and ticket.category != query.category:
            return False
        if query.tag is not None and query.tag not in ticket.tags:
            return False
        if slas and sla_state(ticket, now) not in slas:
            return False
        return not text or _mentions(ticket, text)

    return accept


def _mentions(ticket: Ticket, text: str) -> bool:
    if text.lstrip("#").isdigit() and int(text.lstrip("#")) == ticket.number:
        return True
    haystack = f"{ticket.subject}\n{ticket.requester}\n{ticket.requester_name}".casefold()
    return text in haystack


def _binding(agent: AgentPrincipal, query: QueueQuery) -> str:
    """What a cursor is bound to: the agent and every query value except the cursor."""
    shape = query.model_dump(exclude={"cursor"}, mode="json")
    return f"agent:{agent.id}:" + json.dumps(shape, sort_keys=True)
