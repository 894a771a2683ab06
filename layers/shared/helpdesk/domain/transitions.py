"""Explicit ticket transitions: each returns a changed copy and its audit event, or refuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpdesk.domain.models import AuditEvent, Priority, Status, Ticket
from helpdesk.exceptions import IllegalTransitionError, ValidationError

ALLOWED_STATUS_MOVES: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def _changed(
    ticket: Ticket, now: datetime, actor: str, action: str, **fields: Any
) -> tuple[Ticket, AuditEvent]:
    before = {name: _plain(getattr(ticket, name)) for name in fields}
    updated = ticket.model_copy(update={**fields, "updated_at": now, "updated_by": actor})
    after = {name: _plain(getattr(updated, name)) for name in fields}
    event = AuditEvent(
        ticket_number=ticket.number,
        at=now,
        actor=actor,
        action=action,
        changes={
            name: [before[name], after[name]] for name in fields if before[name] != after[name]
        },
    )
    return updated, event


def _plain(value: Any) -> Any:
    if isinstance(value, Status | Priority):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def change_status(
    ticket: Ticket, target: Status, *, now: datetime, actor: str
) -> tuple[Ticket, AuditEvent]:
    """Move a ticket to `target`; raises IllegalTransitionError for a move the lifecycle forbids."""
    if target == ticket.status:
        raise IllegalTransitionError(f"ticket is already {target.value}", field="status")
    if target not in ALLOWED_STATUS_MOVES[ticket.status]:
        raise IllegalTransitionError(
            f"a {ticket.status.value} ticket cannot become {target.value}", field="status"
        )
    solved_at = (
        now if target == Status.SOLVED else (None if target == Status.OPEN else ticket.solved_at)
    )
    return _changed(
        ticket,
        now,
        actor,
        "status_changed",
        status=target,
        solved_at=solved_at,
        status_changed_at=now,
    )


def reopen(ticket: Ticket, *, now: datetime, actor: str) -> tuple[Ticket, AuditEvent]:
    """Reopen a solved ticket (a customer wrote again); a closed ticket stays closed."""
    return change_status(ticket, Status.OPEN, now=now, actor=actor)


def change_priority(
    ticket: Ticket, priority: Priority, *, now: datetime, actor: str
) -> tuple[Ticket, AuditEvent]:
    """Set the priority; refuses on a closed ticket."""
    _refuse_if_closed(ticket, "priority")
    return _changed(ticket, now, actor, "priority_changed", priority=priority)


def assign(
    ticket: Ticket, assignee: str | None, *, now: datetime, actor: str, team: str | None = None
) -> tuple[Ticket, AuditEvent]:
    """Assign to an agent (None unassigns), optionally moving it to `team` too."""
    _refuse_if_closed(ticket, "assignee")
    fields: dict[str, Any] = {"assignee": assignee}
    if team is not None:
        fields["team"] = team
    return _changed(ticket, now, actor, "assigned" if assignee else "unassigned", **fields)


def set_fields(
    ticket: Ticket, *, now: datetime, actor: str, action: str = "updated", **fields: Any
) -> tuple[Ticket, AuditEvent]:
    """Change plain fields (team, category, tags, ...); refuses unknown fields by name."""
    for name in fields:
        if name not in Ticket.model_fields or name in {"number", "version", "created_at"}:
            raise ValidationError(f"field {name} cannot be set", field=name)
    return _changed(ticket, now, actor, action, **fields)


def mark_duplicate(
    ticket: Ticket, original: Ticket, *, now: datetime, actor: str
) -> tuple[Ticket, AuditEvent]:
    """Close `ticket` as a duplicate of `original`; refuses a ticket merged into itself."""
    if ticket.number == original.number:
        raise ValidationError("a ticket cannot be merged into itself", field="duplicate_of")
    if original.status == Status.CLOSED:
        raise ValidationError("cannot merge into a closed ticket", field="duplicate_of")
    return _changed(
        ticket, now, actor, "merged", duplicate_of=original.number, status=Status.CLOSED
    )


def _refuse_if_closed(ticket: Ticket, field: str) -> None:
    if ticket.status == Status.CLOSED:
        raise IllegalTransitionError("a closed ticket cannot change", field=field)
