"""Report counters: what one change to a ticket adds to the day's figures.

A pure function of the ticket before and after a change (the stream's old and new images), so
that reports are kept incrementally and a report reads a few items per day rather than every
ticket. Durations are kept as lists of values, so medians and percentiles are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helpdesk.domain.models import Direction, Message, MessageKind, Status, Ticket

ALL = "all"


@dataclass(frozen=True)
class Delta:
    """Add `count` to a counter, or append `value` to a list, for one day and one dimension."""

    day: str
    metric: str
    dimension: str = ALL
    count: int = 0
    value: float | None = None


def dimensions(ticket: Ticket) -> list[str]:
    """The dimensions a ticket's figures are kept under: all, channel, category and team."""
    return [
        ALL,
        f"channel={ticket.channel.value}",
        f"category={ticket.category or 'none'}",
        f"team={ticket.team or 'none'}",
    ]


def ticket_deltas(before: Ticket | None, after: Ticket | None) -> list[Delta]:
    """What a ticket change adds to the counters (nothing for a deletion)."""
    if after is None:
        return []
    deltas: list[Delta] = []
    if before is None:
        deltas += _each(after, _day(after.created_at), "created", count=1)
        if after.status.category.value != "closed":
            deltas.append(Delta("backlog", "open", _day(after.created_at), count=1))
    else:
        deltas += _transitions(before, after)
    deltas += _metrics(before, after)
    return deltas


def message_deltas(message: Message) -> list[Delta]:
    """What a new message adds: an agent's public reply counts for that agent's day."""
    if message.direction != Direction.OUTBOUND or message.kind != MessageKind.PUBLIC_REPLY:
        return []
    if message.ai_generated:
        return [Delta(_day(message.created_at), "replies", "agent=ai", count=1)]
    return [Delta(_day(message.created_at), "replies", f"agent={message.author}", count=1)]


def _transitions(before: Ticket, after: Ticket) -> list[Delta]:
    deltas: list[Delta] = []
    day = _day(after.updated_at)
    was_closed = before.status.category.value == "closed"
    is_closed = after.status.category.value == "closed"
    if after.status == Status.SOLVED and before.status != Status.SOLVED:
        deltas += _each(after, day, "solved", count=1)
        if after.ai_resolved:
            deltas += _each(after, day, "ai_resolved", count=1)
    if before.status == Status.SOLVED and after.status == Status.OPEN:
        deltas += _each(after, day, "reopened", count=1)
    if is_closed != was_closed:
        deltas.append(
            Delta("backlog", "open", _day(after.created_at), count=-1 if is_closed else 1)
        )
    if after.duplicate_of is not None and before.duplicate_of is None:
        deltas += _each(after, day, "duplicates", count=1)
    if after.csat is not None and before.csat is None:
        deltas += _each(after, day, "csat", value=float(after.csat))
    if before.assignee != after.assignee or is_closed != was_closed:
        if before.assignee and not was_closed:
            deltas.append(Delta("load", "open", f"agent={before.assignee}", count=-1))
        if after.assignee and not is_closed:
            deltas.append(Delta("load", "open", f"agent={after.assignee}", count=1))
    return deltas


def _metrics(before: Ticket | None, after: Ticket) -> list[Delta]:
    deltas: list[Delta] = []
    old = before.sla.metrics if before else None
    new = after.sla.metrics
    day = _day(after.updated_at)
    pairs = [
        ("first_response_business_minutes", "first_response_business"),
        ("first_response_calendar_minutes", "first_response_calendar"),
        ("resolution_business_minutes", "resolution_business"),
        ("resolution_calendar_minutes", "resolution_calendar"),
    ]
    for attribute, metric in pairs:
        value = getattr(new, attribute)
        if value is not None and (old is None or getattr(old, attribute) is None):
            deltas += _each(after, day, metric, value=float(value))
    for target in ("first_response", "next_response", "resolution"):
        old_clock = getattr(before.sla, target) if before else None
        new_clock = getattr(after.sla, target)
        if new_clock.met_at and not (old_clock and old_clock.met_at) and not new_clock.breached_at:
            deltas += _each(after, day, f"sla_met.{target}", count=1)
        if new_clock.breached_at and not (old_clock and old_clock.breached_at):
            deltas += _each(after, day, f"sla_breached.{target}", count=1)
    return deltas


def _each(
    ticket: Ticket, day: str, metric: str, *, count: int = 0, value: float | None = None
) -> list[Delta]:
    return [Delta(day, metric, dimension, count, value) for dimension in dimensions(ticket)]


def _day(at: datetime) -> str:
    return at.date().isoformat()
