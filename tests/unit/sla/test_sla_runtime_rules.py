"""Refreshing a ticket from its stored history, and the sweep's pure decision, without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    MessageKind,
    Priority,
    Status,
    Ticket,
)
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.policy import Escalation, SlaPolicy, Targets
from helpdesk.sla.service import SlaRules, refresh_ticket
from helpdesk.sla.sweep import decide

# Wednesday 2026-03-18 08:00 UTC = 09:00 in Berlin.
T0 = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)
BERLIN = Calendar(
    id="default",
    timezone="Europe/Berlin",
    hours={d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
)
RULES = SlaRules(
    policies=[
        SlaPolicy(
            id="standard",
            targets={
                Priority.NORMAL: Targets(first_response=60, next_response=60, resolution=480),
                Priority.HIGH: Targets(first_response=30, next_response=30, resolution=240),
            },
            escalations=[Escalation(on="breach", raise_priority="one_step")],
        )
    ],
    calendars={"default": BERLIN},
)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def ticket(**fields: object) -> Ticket:
    return Ticket(
        number=7,
        subject="vpn down",
        requester="ada@example.org",
        created_at=T0,
        updated_at=T0,
        **fields,
    )  # type: ignore[arg-type]


def message(at: datetime, direction: Direction, **fields: object) -> Message:
    return Message(
        ticket_number=7,
        id=f"m{at.timestamp()}",
        created_at=at,
        direction=direction,
        author="x",
        **fields,
    )  # type: ignore[arg-type]


def audit(at: datetime, action: str, **changes: list[object]) -> AuditEvent:
    return AuditEvent(ticket_number=7, at=at, actor="agent", action=action, changes=changes)


def test_a_reply_written_by_the_ai_or_a_system_mail_does_not_meet_first_response() -> None:
    messages = [
        message(T0, Direction.INBOUND),
        message(minutes(1), Direction.OUTBOUND, kind=MessageKind.SYSTEM),
        message(minutes(2), Direction.OUTBOUND, ai_generated=True),
        message(minutes(40), Direction.OUTBOUND),
    ]

    refreshed = refresh_ticket(ticket(), messages, [audit(T0, "created")], RULES, now=minutes(50))

    assert refreshed.sla.first_response.met_at == minutes(40)
    assert refreshed.sla.metrics.first_response_business_minutes == 40
    assert refreshed.sla.metrics.replies == 1


def test_the_first_priority_is_read_back_from_the_audit_trail() -> None:
    # The ticket is high now, but was normal until 20 minutes in: the policy follows the
    # priority as it is now, so the first response is due at 30 minutes.
    events = [
        audit(T0, "created"),
        audit(minutes(20), "priority_changed", priority=["normal", "high"]),
    ]

    refreshed = refresh_ticket(ticket(priority=Priority.HIGH), [], events, RULES, now=minutes(25))

    assert refreshed.sla.first_response.due == minutes(30)
    assert refreshed.sla.policy_id == "standard"


def test_refreshing_keeps_a_recorded_warning_but_a_new_next_response_cycle_starts_clean() -> None:
    # GIVEN a reply at 10 minutes, a customer message at 20 (next response due at 80), and the
    # sweep having recorded the warning of that cycle
    messages = [
        message(T0, Direction.INBOUND),
        message(minutes(10), Direction.OUTBOUND),
        message(minutes(20), Direction.INBOUND),
    ]
    first = refresh_ticket(ticket(), messages, [], RULES, now=minutes(70))
    warned = first.sla.next_response.model_copy(update={"warned_at": minutes(66)})
    first = first.model_copy(update={"sla": first.sla.model_copy(update={"next_response": warned})})

    # WHEN nothing new happens, then an agent replies and the customer writes again
    again = refresh_ticket(first, messages, [], RULES, now=minutes(75))
    later = [
        *messages,
        message(minutes(76), Direction.OUTBOUND),
        message(minutes(90), Direction.INBOUND),
    ]
    next_cycle = refresh_ticket(again, later, [], RULES, now=minutes(95))

    # THEN the warning stays on its cycle, and the new cycle has none yet
    assert again.sla.next_response.warned_at == minutes(66)
    assert next_cycle.sla.next_response.started_at == minutes(90)
    assert next_cycle.sla.next_response.due == minutes(150)
    assert next_cycle.sla.next_response.warned_at is None


def test_a_due_breach_fires_once_and_raises_the_priority() -> None:
    refreshed = refresh_ticket(ticket(), [], [], RULES, now=minutes(61))

    decision = decide(refreshed, RULES, now=minutes(61))

    assert decision is not None
    assert decision.ticket.sla.first_response.breached_at == minutes(61)
    assert decision.ticket.priority == Priority.HIGH
    assert [event.action for event in decision.events] == ["sla_breached", "priority_changed"]
    assert decide(decision.ticket, RULES, now=minutes(62)) is None


def test_a_passed_warning_fires_as_a_warning_before_the_deadline() -> None:
    refreshed = refresh_ticket(ticket(), [], [], RULES, now=minutes(46))

    decision = decide(refreshed, RULES, now=minutes(46))

    assert decision is not None
    assert decision.warnings == 1 and decision.breaches == 0
    assert decision.ticket.sla.first_response.warned_at == minutes(46)


def test_a_paused_ticket_fires_nothing() -> None:
    events = [audit(minutes(5), "status_changed", status=["open", "pending"])]
    refreshed = refresh_ticket(ticket(status=Status.PENDING), [], events, RULES, now=minutes(120))

    assert decide(refreshed, RULES, now=minutes(120)) is None


def test_metrics_count_resolution_without_the_paused_time_and_mark_each_target() -> None:
    # Wednesday 08:00Z (09:00 CET): reply at 90 minutes (first response of 60 breached),
    # pending from 100 to 160, solved at 200. Resolution took 200 - 60 = 140 minutes, all in
    # working hours, so 140 business and 140 calendar minutes; paused 60.
    messages = [message(T0, Direction.INBOUND), message(minutes(90), Direction.OUTBOUND)]
    events = [
        audit(minutes(100), "status_changed", status=["open", "pending"]),
        audit(minutes(160), "status_changed", status=["pending", "open"]),
        audit(minutes(200), "status_changed", status=["open", "solved"]),
    ]

    refreshed = refresh_ticket(
        ticket(status=Status.SOLVED), messages, events, RULES, now=minutes(300)
    )

    metrics = refreshed.sla.metrics
    assert metrics.first_response_business_minutes == 90
    assert metrics.first_response_breached is True
    assert metrics.resolution_business_minutes == 140
    assert metrics.resolution_calendar_minutes == 140
    assert metrics.resolution_breached is False
    assert metrics.paused_calendar_minutes == 60
    assert metrics.replies == 1
    assert refreshed.sla.resolution.met_at == minutes(200)
