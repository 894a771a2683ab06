"""Automation rules (triggers): on an event, when conditions hold, apply actions in order.

Evaluation is pure: it takes the ticket, the rules and `now`, and returns the changed ticket
and the side effects (mails, notifications, webhooks) for the caller to carry out. A change
made by one rule raises its own event (updated, tag added), which other rules may answer, with
a guard: within one evaluation a rule fires at most once, so two rules that keep undoing each
other stop after one round, and the stop is reported.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.models import Priority, Status, Ticket
from helpdesk.exceptions import ValidationError

MAX_FIRINGS = 50


class Trigger(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    CUSTOMER_REPLIED = "customer_replied"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    TAG_ADDED = "tag_added"
    TIME = "time"


Operator = Literal["is", "is_not", "in", "not_in", "contains", "not_contains", "hours_at_least"]


class Condition(BaseModel):
    """`field op value`, e.g. priority is urgent, tags contains vip, pending hours_at_least 120."""

    model_config = ConfigDict(extra="forbid")

    field: str
    op: Operator = "is"
    value: Any = None


class Action(BaseModel):
    """One thing a rule does. `type` decides which of the other fields are read."""

    model_config = ConfigDict(extra="forbid")

    type: Literal[
        "set_field", "assign", "add_tag", "remove_tag", "canned_reply", "notify", "webhook"
    ]
    field: str | None = None
    value: Any = None
    agent: str | None = None
    team: str | None = None
    tag: str | None = None
    canned_id: str | None = None
    to: str | None = None
    message: str | None = None
    url: str | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    trigger: Trigger
    conditions: list[Condition] = Field(default_factory=list)
    actions: list[Action] = Field(min_length=1)
    position: int = 0
    enabled: bool = True


SETTABLE = {"status", "priority", "team", "category", "assignee"}
TIMED_FIELDS = {"hours_since_created", "hours_since_updated", "hours_in_status"}


@dataclass
class Effect:
    """A side effect for the caller: a canned reply, a notification or a webhook call."""

    rule_id: str
    action: Action


@dataclass
class Outcome:
    ticket: Ticket
    fired: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    changes: dict[str, list[Any]] = field(default_factory=dict)
    loop_stopped: list[str] = field(default_factory=list)


def evaluate(
    rules: list[Rule], trigger: Trigger, ticket: Ticket, *, now: datetime, tag: str | None = None
) -> Outcome:
    """Run the rules that answer `trigger` (and the events their changes raise) on `ticket`."""
    ordered = sorted((r for r in rules if r.enabled), key=lambda r: (r.position, r.id))
    outcome = Outcome(ticket=ticket)
    pending: deque[tuple[Trigger, str | None]] = deque([(trigger, tag)])
    while pending and len(outcome.fired) < MAX_FIRINGS:
        event, event_tag = pending.popleft()
        for rule in ordered:
            if rule.trigger != event or not matches(rule, outcome.ticket, now=now, tag=event_tag):
                continue
            if rule.id in outcome.fired:
                if rule.id not in outcome.loop_stopped:
                    outcome.loop_stopped.append(rule.id)
                continue
            outcome.fired.append(rule.id)
            for action in rule.actions:
                pending.extend(_apply(rule, action, outcome, now=now))
    return outcome


def matches(rule: Rule, ticket: Ticket, *, now: datetime, tag: str | None = None) -> bool:
    """True when every condition of `rule` holds for `ticket` (and the event's tag)."""
    return all(_holds(condition, ticket, now=now, tag=tag) for condition in rule.conditions)


def next_time_check(rules: list[Rule], ticket: Ticket) -> datetime | None:
    """When a time rule could first match this ticket: the earliest `hours_at_least` instant of
    the time rules whose other conditions hold now, or None. Goes into the sparse due index."""
    instants = []
    for rule in rules:
        if not rule.enabled or rule.trigger != Trigger.TIME:
            continue
        timed = [c for c in rule.conditions if c.field in TIMED_FIELDS]
        others = [c for c in rule.conditions if c.field not in TIMED_FIELDS]
        if not timed or not all(_holds(c, ticket, now=ticket.updated_at) for c in others):
            continue
        instants.append(
            max(_since(c.field, ticket) + timedelta(hours=float(c.value)) for c in timed)
        )
    return min(instants) if instants else None


def _holds(condition: Condition, ticket: Ticket, *, now: datetime, tag: str | None = None) -> bool:
    if condition.field in TIMED_FIELDS:
        hours = (now - _since(condition.field, ticket)).total_seconds() / 3600
        return hours >= float(condition.value)
    actual = tag if condition.field == "tag" else _field(ticket, condition.field)
    expected = condition.value
    if condition.op == "is":
        return bool(actual == expected)
    if condition.op == "is_not":
        return bool(actual != expected)
    if condition.op == "in":
        return actual in (expected or [])
    if condition.op == "not_in":
        return actual not in (expected or [])
    if condition.op == "contains":
        return _contains(actual, expected)
    if condition.op == "not_contains":
        return not _contains(actual, expected)
    raise ValidationError(f"operator {condition.op} does not apply to {condition.field}", "op")


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return expected in actual
    return str(expected).lower() in str(actual or "").lower()


def _field(ticket: Ticket, name: str) -> Any:
    if name == "language":
        return ticket.triage.language if ticket.triage else None
    if name == "sentiment":
        return ticket.triage.sentiment if ticket.triage else None
    if name not in Ticket.model_fields:
        raise ValidationError(f"rules cannot read the field {name}", field="conditions.field")
    value = getattr(ticket, name)
    return value.value if isinstance(value, StrEnum) else value


def _since(name: str, ticket: Ticket) -> datetime:
    if name == "hours_since_created":
        return ticket.created_at
    if name == "hours_in_status":
        return ticket.status_changed_at or ticket.created_at
    return ticket.updated_at


def _apply(
    rule: Rule, action: Action, outcome: Outcome, *, now: datetime
) -> list[tuple[Trigger, str | None]]:
    ticket = outcome.ticket
    actor = f"rule:{rule.id}"
    if action.type in {"canned_reply", "notify", "webhook"}:
        outcome.effects.append(Effect(rule_id=rule.id, action=action))
        return []
    if action.type in {"add_tag", "remove_tag"}:
        tag = (action.tag or "").strip().lower()
        has = tag in ticket.tags
        if not tag or has == (action.type == "add_tag"):
            return []
        tags = (
            [*ticket.tags, tag]
            if action.type == "add_tag"
            else [t for t in ticket.tags if t != tag]
        )
        _set(outcome, actor, now, tags=tags)
        return [(Trigger.TAG_ADDED, tag)] if action.type == "add_tag" else [(Trigger.UPDATED, None)]
    if action.type == "assign":
        fields: dict[str, Any] = {"assignee": action.agent}
        if action.team:
            fields["team"] = action.team
        return _set(outcome, actor, now, **fields)
    name = action.field or ""
    if name not in SETTABLE:
        raise ValidationError(f"rules cannot set the field {name}", field="actions.field")
    value = Status(action.value) if name == "status" else action.value
    value = Priority(value) if name == "priority" else value
    extra: dict[str, Any] = {}
    if name == "status" and value != ticket.status:
        extra = {"status_changed_at": now, "solved_at": now if value == Status.SOLVED else None}
    return _set(outcome, actor, now, **{name: value}, **extra)


def _set(
    outcome: Outcome, actor: str, now: datetime, **fields: Any
) -> list[tuple[Trigger, str | None]]:
    ticket = outcome.ticket
    changed = {name: value for name, value in fields.items() if getattr(ticket, name) != value}
    if not changed:
        return []
    for name, value in changed.items():
        before = outcome.changes.get(name, [_plain(getattr(ticket, name)), None])[0]
        outcome.changes[name] = [before, _plain(value)]
    outcome.ticket = ticket.model_copy(update={**changed, "updated_at": now, "updated_by": actor})
    return [(Trigger.UPDATED, None)]


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value
