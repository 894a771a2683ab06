"""Keeping a ticket's SLA state in step with its history, and policies and calendars in store.

Who calls what:

- After every change that moves a deadline (a ticket created, an agent's public reply, a
  customer message, a status or priority change), the writer calls `refresh_ticket` with the
  ticket it is about to save and the thread's messages and audit events, the new ones
  included, and saves the result in the same write:

      thread = tickets.thread(number)
      after = refresh_ticket(after, [*thread.messages, *new_messages],
                             [*thread.events, *new_events], store.rules(), now=now)
      tickets.save(thread.ticket, after, new_events, new_messages)

- `SlaStore.save_policy` and `SlaStore.save_calendar` store a change and then call
  `recompute_open`, which refreshes every open, pending and on-hold ticket from its thread.

The history is read as the clock needs it: inbound public messages are customer messages;
outbound public replies written by a person are agent replies (replies the AI sent and system
mails such as acknowledgements do not meet a target); audit events that change `status`,
`priority`, `team` or `category` are status, priority and field changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    MessageKind,
    Priority,
    Requester,
    SlaClock,
    SlaMetrics,
    SlaState,
    Status,
    Team,
    Ticket,
)
from helpdesk.exceptions import ConflictError, ValidationError
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.clock import ClockResult, EventType, SlaEvent, SlaResult, compute
from helpdesk.sla.policy import SlaPolicy, ordered

logger = logging.getLogger(__name__)

POLICY_KIND = "sla_policy"
CALENDAR_KIND = "calendar"
TEAM_KIND = "teams"
DEFAULT_CALENDAR = "default"
OPEN_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD)
_SAVE_ATTEMPTS = 5
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
_NO_LIMIT = 10**9


@dataclass(frozen=True)
class SlaRules:
    """The policies in order and the calendars by id; `default` is the calendar for a policy
    that names none (the one stored as `default`, else 24/7 UTC)."""

    policies: list[SlaPolicy] = field(default_factory=list)
    calendars: dict[str, Calendar] = field(default_factory=dict)

    @property
    def default_calendar(self) -> Calendar:
        """The calendar stored as `default`, else 24/7 in UTC."""
        return self.calendars.get(DEFAULT_CALENDAR) or Calendar.always_open()

    def policy(self, policy_id: str | None) -> SlaPolicy | None:
        """The policy with this id, or None."""
        return next((policy for policy in self.policies if policy.id == policy_id), None)

    def calendar_for(self, policy: SlaPolicy | None) -> Calendar:
        """The calendar `policy` counts in (its own, else the default)."""
        if policy is not None and policy.calendar_id in self.calendars:
            return self.calendars[policy.calendar_id]
        return self.default_calendar


def history(
    ticket: Ticket, messages: Iterable[Message], events: Iterable[AuditEvent]
) -> list[SlaEvent]:
    """The clock's view of a ticket's history: created, replies, messages and changes.

    The first priority, status, team and category are the values before the first audit
    event that changed them (or the ticket's current values when none did).
    """
    audit = sorted(events, key=lambda event: event.at)
    first = {
        "status": _first_value(audit, "status", ticket.status.value),
        "priority": _first_value(audit, "priority", ticket.priority.value),
        "team": _first_value(audit, "team", ticket.team),
        "category": _first_value(audit, "category", ticket.category),
    }
    steps = [
        SlaEvent(
            at=ticket.created_at,
            type=EventType.CREATED,
            status=Status(first["status"]),
            priority=Priority(first["priority"]),
            fields={
                "team": first["team"],
                "category": first["category"],
                "channel": ticket.channel.value,
            },
        )
    ]
    for message in messages:
        kind = _message_event(message)
        if kind is not None:
            steps.append(SlaEvent(at=max(message.created_at, ticket.created_at), type=kind))
    for event in audit:
        steps.extend(_audit_steps(event))
    return steps


def refresh_ticket(
    ticket: Ticket,
    messages: Sequence[Message],
    events: Sequence[AuditEvent],
    rules: SlaRules,
    *,
    now: datetime,
    requester: Requester | None = None,
) -> Ticket:
    """`ticket` with its SLA state recomputed from its history as of `now`; nothing is saved.

    Detections the sweep recorded (`warned_at`, `breached_at`) and the notification outbox are
    kept for a clock that is still in the same cycle (same start); a new next-response cycle
    starts clean. `requester` supplies the organisation and tier that policies may match on.
    Raises ValidationError when a policy names a calendar that does not exist.
    """
    steps = history(ticket, messages, events)
    if requester is not None:
        steps[0] = SlaEvent(
            at=steps[0].at,
            type=steps[0].type,
            status=steps[0].status,
            priority=steps[0].priority,
            fields={
                **steps[0].fields,
                "organisation": requester.organisation_id,
                "tier": requester.tier,
            },
        )
    result = compute(
        steps,
        rules.policies,
        rules.calendars,
        now=now,
        default_calendar=rules.default_calendar,
    )
    return ticket.model_copy(update={"sla": sla_state(ticket.sla, result)})


def sla_state(before: SlaState, result: SlaResult) -> SlaState:
    """The stored SLA state for `result`, keeping `before`'s detections of the same cycles."""
    clocks = {
        name: _stored_clock(getattr(before, name), clock) for name, clock in result.clocks().items()
    }
    return SlaState(
        policy_id=result.policy_id,
        paused_minutes=round(result.paused_minutes, 2),
        metrics=metrics(result),
        notifications=list(before.notifications),
        **clocks,
    )


def metrics(result: SlaResult) -> SlaMetrics:
    """Per-ticket report figures: response and resolution times (business and calendar
    minutes, paused time excluded), replies, paused time, and met or breached per target."""
    first, resolution = result.first_response, result.resolution
    return SlaMetrics(
        first_response_business_minutes=_if_met(first, first.business_minutes),
        first_response_calendar_minutes=_if_met(first, first.calendar_minutes),
        replies=result.replies,
        resolution_business_minutes=_if_met(resolution, resolution.business_minutes),
        resolution_calendar_minutes=_if_met(resolution, resolution.calendar_minutes),
        paused_business_minutes=round(result.paused_business_minutes, 2),
        paused_calendar_minutes=round(result.paused_minutes, 2),
        first_response_breached=first.breached,
        next_response_breaches=result.next_response_breaches,
        resolution_breached=resolution.breached,
    )


class SlaStore:
    """Policies and calendars in the configuration partition of the table."""

    def __init__(self, config: ConfigRepository) -> None:
        self._config = config

    def rules(self) -> SlaRules:
        """Every policy, in order, and every calendar."""
        policies = ordered(self._config.list(POLICY_KIND, SlaPolicy))
        calendars = {
            calendar.id: calendar for calendar in self._config.list(CALENDAR_KIND, Calendar)
        }
        return SlaRules(policies=policies, calendars=calendars)

    def save_policy(
        self,
        policy: SlaPolicy,
        tickets: TicketRepository,
        *,
        now: datetime,
        teams: Sequence[str] = (),
    ) -> int:
        """Store `policy` and recompute the open tickets (of `teams`, by default every
        configured team); returns how many changed. Raises ValidationError when the policy
        names a calendar that is not stored."""
        if policy.calendar_id is not None and policy.calendar_id not in self.rules().calendars:
            raise ValidationError(
                f"calendar {policy.calendar_id} does not exist", field="calendar_id"
            )
        self._config.put(POLICY_KIND, policy.id, policy)
        return recompute_open(tickets, self.rules(), now=now, teams=teams or self.team_ids())

    def save_calendar(
        self,
        calendar: Calendar,
        tickets: TicketRepository,
        *,
        now: datetime,
        teams: Sequence[str] = (),
    ) -> int:
        """Store `calendar` (checked to have working time) and recompute the open tickets as
        `save_policy` does; returns how many changed. Raises CalendarError for a calendar
        without working hours."""
        calendar.working_time()
        self._config.put(CALENDAR_KIND, calendar.id, calendar)
        return recompute_open(tickets, self.rules(), now=now, teams=teams or self.team_ids())

    def team_ids(self) -> list[str]:
        """The ids of the configured teams (configuration kind `teams`)."""
        return [team.id for team in self._config.list(TEAM_KIND, Team)]


def recompute_open(
    tickets: TicketRepository,
    rules: SlaRules,
    *,
    now: datetime,
    teams: Sequence[str] = (),
) -> int:
    """Refresh the SLA state of every open, pending and on-hold ticket; returns how many
    tickets changed.

    The tickets are found without a scan: every ticket with a running clock through the due
    index, and the open, pending and on-hold queues of `teams` and of no team (which also
    finds tickets that had no policy until now). Each is re-read and saved with an optimistic
    version; one that keeps changing under us is skipped with a warning (its next change
    refreshes it anyway).
    """
    numbers = {ticket.number for ticket in tickets.due_before(_FAR_FUTURE, limit=_NO_LIMIT)}
    for team in [None, *teams]:
        for status in OPEN_STATUSES:
            cursor: str | None = None
            while True:
                page = tickets.queue(team, status.value, limit=100, cursor=cursor)
                numbers.update(ticket.number for ticket in page.tickets)
                cursor = page.cursor
                if cursor is None:
                    break
    changed = sum(_recompute_one(tickets, number, rules, now=now) for number in sorted(numbers))
    logger.info("open tickets recomputed", extra={"examined": len(numbers), "changed": changed})
    return changed


def _recompute_one(
    tickets: TicketRepository, number: int, rules: SlaRules, *, now: datetime
) -> int:
    for _ in range(_SAVE_ATTEMPTS):
        thread = tickets.thread(number)
        after = refresh_ticket(thread.ticket, thread.messages, thread.events, rules, now=now)
        if after.sla == thread.ticket.sla:
            return 0
        event = AuditEvent(
            ticket_number=number,
            at=now,
            actor="sla",
            action="sla_recomputed",
            changes={"policy_id": [thread.ticket.sla.policy_id, after.sla.policy_id]},
        )
        try:
            tickets.save(thread.ticket, after, [event])
        except ConflictError:
            continue
        return 1
    logger.warning("ticket kept changing; sla not recomputed", extra={"ticket_number": number})
    return 0


def _stored_clock(before: SlaClock, clock: ClockResult) -> SlaClock:
    same_cycle = before.started_at is not None and before.started_at == clock.started_at
    return SlaClock(
        due=clock.due,
        warn_at=clock.warn_at,
        met_at=clock.met_at,
        warned_at=before.warned_at if same_cycle else None,
        breached_at=before.breached_at if same_cycle else None,
        started_at=clock.started_at,
        minutes_taken=round(clock.minutes_taken, 2),
    )


def _if_met(clock: ClockResult, value: float) -> float | None:
    return round(value, 2) if clock.met_at is not None else None


def _first_value(audit: list[AuditEvent], name: str, current: Any) -> Any:
    for event in audit:
        change = event.changes.get(name)
        if isinstance(change, list) and len(change) == 2:
            return change[0]
    return current


def _message_event(message: Message) -> EventType | None:
    if message.kind != MessageKind.PUBLIC_REPLY:
        return None
    if message.direction == Direction.INBOUND:
        return EventType.CUSTOMER_MESSAGE
    if message.direction == Direction.OUTBOUND and not message.ai_generated:
        return EventType.AGENT_REPLY
    return None


def _audit_steps(event: AuditEvent) -> list[SlaEvent]:
    steps: list[SlaEvent] = []
    status = _after(event.changes, "status")
    if status is not None:
        steps.append(SlaEvent(at=event.at, type=EventType.STATUS, status=Status(status)))
    priority = _after(event.changes, "priority")
    if priority is not None:
        steps.append(SlaEvent(at=event.at, type=EventType.PRIORITY, priority=Priority(priority)))
    fields: Mapping[str, Any] = {
        name: _after(event.changes, name) for name in ("team", "category") if name in event.changes
    }
    if fields:
        steps.append(SlaEvent(at=event.at, type=EventType.FIELDS, fields=dict(fields)))
    return steps


def _after(changes: Mapping[str, Any], name: str) -> Any:
    change = changes.get(name)
    if isinstance(change, list) and len(change) == 2:
        return change[1]
    return None
