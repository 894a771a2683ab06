"""The automation function's work on one stream record: report counters, then rules.

Ticket changes and new messages arrive from the table's stream. Each record adds its deltas to
the report counters (once, even when the record is delivered again), and raises the rule
events it stands for: created, updated, customer replied, SLA warning or breach, tag added.
Rules never answer their own writes (the ticket's `updated_by` names the rule), which with the
guard inside one evaluation keeps rules from triggering each other forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer

from helpdesk.automation.assignment import AssignmentService
from helpdesk.automation.rules import Effect, Rule, Trigger, evaluate, next_time_check
from helpdesk.data.config import ConfigRepository
from helpdesk.data.items import from_item
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    Agent,
    AuditEvent,
    Direction,
    Message,
    MessageKind,
    Status,
    Team,
    Ticket,
)
from helpdesk.exceptions import ConflictError, NotFoundError
from helpdesk.reports.counters import message_deltas, ticket_deltas
from helpdesk.reports.repository import ReportRepository

logger = logging.getLogger(__name__)

_DESERIALIZER = TypeDeserializer()
SAVE_ATTEMPTS = 4


class EffectRunner(Protocol):
    """Carries out a rule's side effect: a canned reply, a notification or a webhook call."""

    def run(self, effect: Effect, ticket: Ticket, *, now: datetime) -> None: ...


@dataclass
class RecordResult:
    counted: bool = False
    triggers: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    loop_stopped: list[str] = field(default_factory=list)
    assigned: str | None = None


def image(record: dict[str, Any], which: str) -> dict[str, Any] | None:
    """A stream record's NewImage or OldImage as plain Python values, or None."""
    raw = record.get("dynamodb", {}).get(which)
    if not raw:
        return None
    return {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}


ASSIGNMENT_ACTOR = "assignment"
AUTOMATION_ACTOR = "automation"


def load_changes(before: Ticket | None, after: Ticket | None) -> tuple[str | None, str | None]:
    """(agent whose open load drops, agent whose open load rises) for a ticket change.

    A pick by the assignment service already reserved the new agent's load, so that change
    only releases the previous assignee.
    """
    held = before is not None and before.assignee and before.status.category.value != "closed"
    holds = after is not None and after.assignee and after.status.category.value != "closed"
    old_agent = before.assignee if held and before is not None else None
    new_agent = after.assignee if holds and after is not None else None
    if old_agent == new_agent:
        return None, None
    if after is not None and after.updated_by == ASSIGNMENT_ACTOR:
        return old_agent, None
    return old_agent, new_agent


def triggers_for(before: Ticket | None, after: Ticket) -> list[tuple[Trigger, str | None]]:
    """The rule events a ticket change stands for (none for a change a rule made, nor for the
    automation's own bookkeeping)."""
    if after.updated_by and (
        after.updated_by.startswith("rule:") or after.updated_by == AUTOMATION_ACTOR
    ):
        return []
    if before is None:
        return [(Trigger.CREATED, None)]
    events: list[tuple[Trigger, str | None]] = [(Trigger.UPDATED, None)]
    events += [(Trigger.TAG_ADDED, tag) for tag in after.tags if tag not in before.tags]
    for target in ("first_response", "next_response", "resolution"):
        old, new = getattr(before.sla, target), getattr(after.sla, target)
        if new.warned_at and not old.warned_at:
            events.append((Trigger.SLA_WARNING, None))
        if new.breached_at and not old.breached_at:
            events.append((Trigger.SLA_BREACH, None))
    return events


def is_customer_reply(message: Message, ticket: Ticket) -> bool:
    """An inbound public message after the one that opened the ticket."""
    return (
        message.direction == Direction.INBOUND
        and message.kind == MessageKind.PUBLIC_REPLY
        and message.created_at > ticket.created_at
    )


class AutomationProcessor:
    """Processes stream records. Takes the table and an effect runner from the caller."""

    def __init__(self, table: Any, effects: EffectRunner) -> None:
        self._tickets = TicketRepository(table)
        self._reports = ReportRepository(table)
        self._config = ConfigRepository(table)
        self._assignment = AssignmentService(table)
        self._effects = effects

    def process(self, record: dict[str, Any], *, now: datetime) -> RecordResult:
        """Count and automate one stream record; raises on a failure worth retrying."""
        result = RecordResult()
        new, old = image(record, "NewImage"), image(record, "OldImage")
        sort_key = str((new or old or {}).get("SK", ""))
        event_id = str(record.get("eventID", ""))
        if sort_key == "TICKET":
            after = Ticket.model_validate(from_item(new)) if new else None
            before = Ticket.model_validate(from_item(old)) if old else None
            counted = self._reports.apply(event_id, ticket_deltas(before, after), now=now)
            result.counted = counted
            if counted:
                self._track_load(before, after)
            events = triggers_for(before, after) if after else []
        elif sort_key.startswith("MSG#") and new and not old:
            message = Message.model_validate(from_item(new))
            result.counted = self._reports.apply(event_id, message_deltas(message), now=now)
            events = self._message_events(message)
        else:
            return result
        number = self._number(new or old or {})
        for trigger, tag in events:
            result.triggers.append(trigger.value)
            self._run_rules(trigger, tag, number, now=now, result=result)
        if sort_key == "TICKET" and new:
            result.assigned = self._auto_assign(number, now=now)
            self._schedule_time_rules(number, now=now)
        return result

    def sweep(self, *, now: datetime, limit: int = 500) -> list[int]:
        """Run the time rules of every ticket whose `automation_due` has come; returns their
        numbers. Reads only the sparse due index, as the SLA sweep does."""
        swept = []
        for ticket in self._tickets.due_before(now, limit=limit):
            if ticket.automation_due is None or ticket.automation_due > now:
                continue
            self.run_time_rules(ticket.number, now=now)
            self._schedule_time_rules(ticket.number, now=now)
            swept.append(ticket.number)
        return swept

    def reassign_away(self, *, now: datetime) -> list[tuple[int, str | None]]:
        """Move open tickets off agents who have been away longer than their team allows.

        Reads the open queue of each team that sets a limit, and only when one of its agents
        is away; returns (ticket number, new agent or None) for each ticket moved."""
        agents = {agent.id: agent for agent in self._config.list("agents", Agent)}
        away = {agent_id for agent_id, agent in agents.items() if not agent.online}
        moved: list[tuple[int, str | None]] = []
        if not away:
            return moved
        for team in self._config.list("teams", Team):
            if team.away_reassign_minutes is None:
                continue
            if not any(team.id in agents[agent_id].teams for agent_id in away):
                continue
            cursor = None
            while True:
                page = self._tickets.queue(team.id, Status.OPEN.value, limit=100, cursor=cursor)
                held = [ticket for ticket in page.tickets if ticket.assignee in away]
                for number, agent in self._assignment.reassign_from_away(held, agents, now=now):
                    moved.append((number, agent))
                    self._reassign(number, agent, now=now)
                cursor = page.cursor
                if cursor is None:
                    break
        return moved

    def _reassign(self, number: int, agent: str | None, *, now: datetime) -> None:
        for _attempt in range(SAVE_ATTEMPTS):
            ticket = self._tickets.get(number)
            after = ticket.model_copy(
                update={"assignee": agent, "updated_at": now, "updated_by": ASSIGNMENT_ACTOR}
            )
            event = AuditEvent(
                ticket_number=number,
                at=now,
                actor=ASSIGNMENT_ACTOR,
                action="reassigned_from_away",
                changes={"assignee": [ticket.assignee, agent]},
            )
            try:
                self._tickets.save(ticket, after, [event])
            except ConflictError:
                continue
            return

    def _schedule_time_rules(self, number: int, *, now: datetime) -> None:
        """Keep `automation_due` at the instant the ticket's earliest time rule could match."""
        rules = [rule for rule in self._config.list("rules", Rule) if rule.trigger == Trigger.TIME]
        for _attempt in range(SAVE_ATTEMPTS):
            ticket = self._tickets.get(number)
            due = next_time_check(rules, ticket) if rules else None
            if due is not None and due <= now and ticket.automation_due == due:
                due = None  # already run for this instant; wait for the ticket to change
            if due == ticket.automation_due:
                return
            after = ticket.model_copy(
                update={"automation_due": due, "updated_by": AUTOMATION_ACTOR}
            )
            try:
                self._tickets.save(ticket, after, [])
            except ConflictError:
                continue
            return

    def _track_load(self, before: Ticket | None, after: Ticket | None) -> None:
        released, held = load_changes(before, after)
        if released:
            self._assignment.release(released)
        if held:
            self._assignment.hold(held)

    def _auto_assign(self, number: int, *, now: datetime) -> str | None:
        """Assign an open, unassigned ticket that has a team, under the team's mode."""
        for _attempt in range(SAVE_ATTEMPTS):
            ticket = self._tickets.get(number)
            if ticket.assignee or not ticket.team or ticket.status.category.value == "closed":
                return None
            if ticket.suspended:
                return None
            agent = self._assignment.pick(ticket, now=now)
            if agent is None:
                return None
            after = ticket.model_copy(
                update={"assignee": agent, "updated_at": now, "updated_by": ASSIGNMENT_ACTOR}
            )
            event = AuditEvent(
                ticket_number=number,
                at=now,
                actor=ASSIGNMENT_ACTOR,
                action="assigned",
                changes={"assignee": [None, agent]},
            )
            try:
                self._tickets.save(ticket, after, [event])
            except ConflictError:
                self._assignment.release(agent)
                continue
            logger.info("ticket assigned", extra={"ticket_number": number, "agent": agent})
            return agent
        return None

    def run_time_rules(self, ticket_number: int, *, now: datetime) -> RecordResult:
        """Evaluate the time rules on one ticket (the sweep calls this when they fall due)."""
        result = RecordResult(triggers=[Trigger.TIME.value])
        self._run_rules(Trigger.TIME, None, ticket_number, now=now, result=result)
        return result

    def _message_events(self, message: Message) -> list[tuple[Trigger, str | None]]:
        try:
            ticket = self._tickets.get(message.ticket_number)
        except NotFoundError:
            return []
        return [(Trigger.CUSTOMER_REPLIED, None)] if is_customer_reply(message, ticket) else []

    def _run_rules(
        self, trigger: Trigger, tag: str | None, number: int, *, now: datetime, result: RecordResult
    ) -> None:
        rules = self._config.list("rules", Rule)
        if not any(rule.trigger == trigger and rule.enabled for rule in rules):
            return
        for _attempt in range(SAVE_ATTEMPTS):
            ticket = self._tickets.get(number)
            outcome = evaluate(rules, trigger, ticket, now=now, tag=tag)
            if not outcome.fired:
                return
            events = [
                AuditEvent(
                    ticket_number=number,
                    at=now,
                    actor=f"rule:{rule_id}",
                    action="rule_fired",
                    changes=outcome.changes if index == 0 else {},
                )
                for index, rule_id in enumerate(outcome.fired)
            ]
            if outcome.loop_stopped:
                events.append(
                    AuditEvent(
                        ticket_number=number,
                        at=now,
                        actor="automation",
                        action="rule_loop_stopped",
                        changes={"rules": outcome.loop_stopped},
                    )
                )
            after = outcome.ticket
            if after.updated_by is None or not after.updated_by.startswith("rule:"):
                after = after.model_copy(update={"updated_by": f"rule:{outcome.fired[-1]}"})
            try:
                self._tickets.save(ticket, after, events)
            except ConflictError:
                continue
            result.fired += outcome.fired
            result.loop_stopped += outcome.loop_stopped
            logger.info(
                "rules fired",
                extra={"ticket_number": number, "rules": outcome.fired, "trigger": trigger.value},
            )
            for effect in outcome.effects:
                self._effects.run(effect, after, now=now)
            return
        raise ConflictError("the ticket kept changing while rules ran")

    @staticmethod
    def _number(item: dict[str, Any]) -> int:
        return int(str(item.get("PK", "TICKET#0")).removeprefix("TICKET#"))
