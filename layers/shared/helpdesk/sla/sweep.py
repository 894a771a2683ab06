"""The SLA sweep: warn, breach and escalate the deadlines that are due, each exactly once.

The sweep reads only the sparse due index (`TicketRepository.due_before`). For each ticket it
decides, as a pure function of the stored ticket and `now`, which warnings and breaches fire,
and writes them with the ticket's optimistic version: when two sweeps overlap, or a retried
invocation repeats one, the second write fails, the loser re-reads the ticket and finds the
detection already recorded, so nothing fires twice. Each detection is stored on its clock
(`warned_at`, `breached_at`: the time it was detected), with an audit event, and published as
a domain event after the write.

Escalations run in the same write: a higher priority (deadlines then recomputed from the
history), a new team or agent, and notices put in the ticket's SLA outbox. A notice is sent
only after one sweep has claimed it with another versioned write, so it goes out at most once
and, unless the process dies between the claim and the send, exactly once. A notice that the
policy keeps to working hours waits in the outbox until the calendar's next working minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Priority, SlaClock, SlaNotification, Status, Ticket
from helpdesk.domain.transitions import assign, change_priority, set_fields
from helpdesk.events import EventPublisher
from helpdesk.exceptions import ConflictError, HelpdeskError
from helpdesk.sla.notify import Notifier
from helpdesk.sla.policy import TARGETS, Escalation, SlaPolicy
from helpdesk.sla.service import SlaRules, SlaStore, refresh_ticket

logger = logging.getLogger(__name__)

ACTOR = "sla"
WARNING_EVENT = "SLA Warning"
BREACH_EVENT = "SLA Breached"
_ATTEMPTS = 5
_KEEP_NOTICES = 50


@dataclass
class Decision:
    """What one sweep does to one ticket: the ticket after, its audit and domain events."""

    ticket: Ticket
    events: list[AuditEvent] = field(default_factory=list)
    domain_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    warnings: int = 0
    breaches: int = 0
    priority_changed: bool = False


@dataclass
class SweepReport:
    """What a sweep did, for its log line and the benchmark."""

    due: int = 0
    warnings: int = 0
    breaches: int = 0
    notices_sent: int = 0
    notices_failed: int = 0
    conflicts: int = 0
    gave_up: int = 0
    failed: int = 0
    deferred: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict, for a log line or a handler's answer."""
        return dict(self.__dict__)


def decide(ticket: Ticket, rules: SlaRules, *, now: datetime) -> Decision | None:
    """The warnings, breaches and escalations due on `ticket` at `now`, or None for none.

    Only a ticket that is open fires: a paused or closed one is in the due index only for
    notices still waiting in its outbox. A clock whose deadline has passed breaches (its
    warning, if not yet given, is not given late); otherwise one past its warning instant warns.
    """
    if ticket.status != Status.OPEN:
        return None
    decision = Decision(ticket=ticket)
    policy = rules.policy(ticket.sla.policy_id)
    for target in TARGETS:
        clock: SlaClock = getattr(decision.ticket.sla, target)
        if clock.due is None or clock.met_at is not None or clock.breached_at is not None:
            continue
        if clock.due <= now:
            kind, fired = "breach", clock.model_copy(update={"breached_at": now})
        elif clock.warn_at is not None and clock.warn_at <= now and clock.warned_at is None:
            kind, fired = "warning", clock.model_copy(update={"warned_at": now})
        else:
            continue
        _fire(decision, target, kind, fired, policy, rules, now)
    return decision if decision.events else None


class SlaSweep:
    """Runs the sweep over the due index. Takes its repositories and senders from the caller."""

    def __init__(
        self,
        tickets: TicketRepository,
        store: SlaStore,
        notifier: Notifier,
        publisher: EventPublisher | None = None,
        *,
        limit: int = 500,
        budget_seconds: float = 40.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tickets = tickets
        self._store = store
        self._notifier = notifier
        self._publisher = publisher
        self._limit = limit
        self._budget = budget_seconds
        self._monotonic = monotonic

    def run(self, *, now: datetime) -> SweepReport:
        """One sweep at `now`; returns what it did. Failures to notify are reported, not raised."""
        report = SweepReport()
        due = self._tickets.due_before(now, limit=self._limit)
        report.due = len(due)
        rules = self._store.rules() if due else SlaRules()
        started = self._monotonic()
        for ticket in due:
            try:
                current = self._fire(ticket, rules, now, report)
                # Slow webhooks must not run the function out of time: once the budget is
                # spent, notices stay unclaimed in their outbox for the next sweep.
                if current is not None and self._monotonic() - started < self._budget:
                    self._deliver(current, now, report)
                elif current is not None and _ready(current, now):
                    report.deferred += 1
            except HelpdeskError:
                # One ticket that cannot be decided (a policy naming a deleted calendar, say)
                # must not stop the sweep for the others; it stays due and is tried again.
                report.failed += 1
                logger.exception(
                    "sla sweep failed on a ticket", extra={"ticket_number": ticket.number}
                )
        logger.info("sla sweep done", extra=report.as_dict())
        return report

    def _fire(
        self, ticket: Ticket, rules: SlaRules, now: datetime, report: SweepReport
    ) -> Ticket | None:
        for _ in range(_ATTEMPTS):
            decision = decide(ticket, rules, now=now)
            if decision is None:
                return ticket
            after = decision.ticket
            if decision.priority_changed:
                thread = self._tickets.thread(ticket.number)
                after = refresh_ticket(
                    after, thread.messages, [*thread.events, *decision.events], rules, now=now
                )
            try:
                saved = self._tickets.save(ticket, after, decision.events)
            except ConflictError:
                report.conflicts += 1
                ticket = self._tickets.get(ticket.number)
                continue
            report.warnings += decision.warnings
            report.breaches += decision.breaches
            self._publish(decision, now)
            return saved
        report.gave_up += 1
        logger.warning(
            "ticket kept changing; sla not fired", extra={"ticket_number": ticket.number}
        )
        return None

    def _deliver(self, ticket: Ticket, now: datetime, report: SweepReport) -> None:
        claimed = self._claim(ticket, now, report)
        if claimed is None:
            return
        ticket, notices = claimed
        outcomes = {notice.id: self._notifier.send(notice, ticket) for notice in notices}
        for notice in notices:
            if outcomes[notice.id].delivered:
                report.notices_sent += 1
            else:
                report.notices_failed += 1
                logger.warning(
                    "sla notice not delivered",
                    extra={
                        "ticket_number": ticket.number,
                        "channel": notice.channel,
                        "detail": outcomes[notice.id].detail,
                    },
                )
        self._record_outcomes(ticket, outcomes, now, report)

    def _claim(
        self, ticket: Ticket, now: datetime, report: SweepReport
    ) -> tuple[Ticket, list[SlaNotification]] | None:
        for _ in range(_ATTEMPTS):
            ready = _ready(ticket, now)
            if not ready:
                return None
            ids = {notice.id for notice in ready}
            notices = [
                notice.model_copy(update={"claimed_at": now}) if notice.id in ids else notice
                for notice in ticket.sla.notifications
            ]
            after = ticket.model_copy(
                update={"sla": ticket.sla.model_copy(update={"notifications": notices})}
            )
            try:
                saved = self._tickets.save(ticket, after, [])
            except ConflictError:
                report.conflicts += 1
                ticket = self._tickets.get(ticket.number)
                continue
            return saved, [notice for notice in notices if notice.id in ids]
        report.gave_up += 1
        return None

    def _record_outcomes(
        self, ticket: Ticket, outcomes: dict[str, Any], now: datetime, report: SweepReport
    ) -> None:
        for _ in range(_ATTEMPTS):
            notices = []
            events = []
            for notice in ticket.sla.notifications:
                outcome = outcomes.get(notice.id)
                if outcome is None or notice.delivered_at or notice.failure:
                    notices.append(notice)
                    continue
                notices.append(
                    notice.model_copy(
                        update={"delivered_at": now}
                        if outcome.delivered
                        else {"failure": outcome.detail}
                    )
                )
                events.append(
                    AuditEvent(
                        ticket_number=ticket.number,
                        at=now,
                        actor=ACTOR,
                        action="sla_notified" if outcome.delivered else "sla_notice_failed",
                        changes={
                            "notice": notice.id,
                            "channel": notice.channel,
                            "kind": notice.kind,
                            "target": notice.target,
                            "detail": outcome.detail,
                        },
                    )
                )
            if not events:
                return
            kept = _trim(notices)
            after = ticket.model_copy(
                update={"sla": ticket.sla.model_copy(update={"notifications": kept})}
            )
            try:
                self._tickets.save(ticket, after, events)
                return
            except ConflictError:
                report.conflicts += 1
                ticket = self._tickets.get(ticket.number)
        logger.warning("notice outcomes not recorded", extra={"ticket_number": ticket.number})

    def _publish(self, decision: Decision, now: datetime) -> None:
        if self._publisher is None:
            return
        for detail_type, detail in decision.domain_events:
            self._publisher.publish(detail_type, detail, now=now)


def _fire(
    decision: Decision,
    target: str,
    kind: str,
    clock: SlaClock,
    policy: SlaPolicy | None,
    rules: SlaRules,
    now: datetime,
) -> None:
    ticket = decision.ticket
    sla = ticket.sla.model_copy(update={target: clock})
    decision.ticket = ticket.model_copy(update={"sla": sla})
    facts = {
        "ticket_number": ticket.number,
        "target": target,
        "due": clock.due.isoformat() if clock.due else None,
        "detected_at": now.isoformat(),
        "policy_id": ticket.sla.policy_id,
        "priority": ticket.priority.value,
    }
    decision.events.append(
        AuditEvent(
            ticket_number=ticket.number,
            at=now,
            actor=ACTOR,
            action="sla_breached" if kind == "breach" else "sla_warned",
            changes={"target": target, "due": facts["due"], "detected_at": facts["detected_at"]},
        )
    )
    decision.domain_events.append((BREACH_EVENT if kind == "breach" else WARNING_EVENT, facts))
    if kind == "breach":
        decision.breaches += 1
    else:
        decision.warnings += 1
    for escalation in policy.escalations if policy else []:
        if escalation.applies(kind, target):
            _escalate(decision, escalation, target, kind, clock, policy, rules, now)


def _escalate(
    decision: Decision,
    escalation: Escalation,
    target: str,
    kind: str,
    clock: SlaClock,
    policy: SlaPolicy | None,
    rules: SlaRules,
    now: datetime,
) -> None:
    ticket = decision.ticket
    raised = _raised_priority(ticket.priority, escalation.raise_priority)
    if raised is not None:
        ticket, event = change_priority(ticket, raised, now=now, actor=ACTOR)
        decision.events.append(event)
        decision.priority_changed = True
    if escalation.assign_agent:
        ticket, event = assign(
            ticket, escalation.assign_agent, now=now, actor=ACTOR, team=escalation.assign_team
        )
        if event.changes:
            decision.events.append(event)
    elif escalation.assign_team and escalation.assign_team != ticket.team:
        ticket, event = set_fields(
            ticket, now=now, actor=ACTOR, action="team_changed", team=escalation.assign_team
        )
        decision.events.append(event)
    not_before = now
    if escalation.within_hours:
        not_before = rules.calendar_for(policy).working_time().next_working(now)
    started = clock.started_at.isoformat() if clock.started_at else "-"
    destinations = [("email", address, "default") for address in escalation.notify_emails]
    destinations += [("webhook", str(hook.url), hook.secret) for hook in escalation.webhooks]
    known = {notice.id for notice in ticket.sla.notifications}
    notices = list(ticket.sla.notifications)
    for index, (channel, destination, secret) in enumerate(destinations):
        notice_id = f"{target}/{kind}/{started}/{channel}/{index}"
        if notice_id in known:
            continue
        notices.append(
            SlaNotification(
                id=notice_id,
                kind=kind,
                target=target,
                channel=channel,
                destination=destination,
                secret=secret,
                not_before=not_before,
            )
        )
    sla = ticket.sla.model_copy(update={"notifications": notices})
    decision.ticket = ticket.model_copy(update={"sla": sla})


def _ready(ticket: Ticket, now: datetime) -> list[SlaNotification]:
    return [
        notice
        for notice in ticket.sla.notifications
        if notice.claimed_at is None and notice.not_before <= now
    ]


def _raised_priority(current: Priority, wanted: Priority | str | None) -> Priority | None:
    if wanted is None:
        return None
    if wanted == "one_step":
        ranks = list(Priority)
        return ranks[current.rank - 1] if current.rank > 0 else None
    target = Priority(wanted)
    return target if target.rank < current.rank else None


def _trim(notices: list[SlaNotification]) -> list[SlaNotification]:
    if len(notices) <= _KEEP_NOTICES:
        return notices
    waiting = [notice for notice in notices if notice.claimed_at is None]
    done = [notice for notice in notices if notice.claimed_at is not None]
    keep = max(0, _KEEP_NOTICES - len(waiting))
    return [*done[len(done) - keep :], *waiting]
