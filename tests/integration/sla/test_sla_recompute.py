"""Changing a policy or a calendar recomputes the deadlines of open tickets, through the queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Status, Team, Ticket
from helpdesk.exceptions import ValidationError
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.policy import SlaPolicy, Targets
from helpdesk.sla.service import SlaStore, refresh_ticket

# Wednesday 2026-03-18 08:00 UTC.
T0 = datetime(2026, 3, 18, 8, 0, tzinfo=UTC)


def _ticket(repo: TicketRepository, store: SlaStore, **fields: Any) -> Ticket:
    number = repo.next_number()
    ticket = Ticket(
        number=number,
        subject="vpn down",
        requester="ada@example.org",
        created_at=T0,
        updated_at=T0,
        **fields,
    )
    event = AuditEvent(ticket_number=number, at=T0, actor="ada@example.org", action="created")
    ticket = refresh_ticket(ticket, [], [event], store.rules(), now=T0)
    return repo.create(ticket, None, event)


def test_a_new_policy_and_a_new_calendar_move_the_deadlines_of_open_tickets(table: Any) -> None:
    # GIVEN, under a 24/7 policy of 120 minutes, tickets with no team, in the configured team
    # billing (one of them pending), in a team nobody configured, and a closed one
    repo = TicketRepository(table)
    config = ConfigRepository(table)
    store = SlaStore(config)
    config.put("teams", "billing", Team(id="billing", name="Billing"))
    config.put("sla_policy", "standard", SlaPolicy(id="standard", targets=Targets(resolution=120)))
    loose = _ticket(repo, store)
    billing = _ticket(repo, store, team="billing")
    waiting = _ticket(repo, store, team="billing", status=Status.PENDING)
    stray = _ticket(repo, store, team="gone")
    closed = _ticket(repo, store, team="billing", status=Status.CLOSED)
    assert repo.get(loose.number).sla.resolution.due == T0 + timedelta(minutes=120)

    # WHEN the policy becomes 240 minutes
    now = T0 + timedelta(minutes=10)
    changed = store.save_policy(
        SlaPolicy(id="standard", targets=Targets(resolution=240)), repo, now=now
    )

    # THEN every open and pending ticket moved, the closed one did not, each change audited
    assert changed == 4
    for ticket in (loose, billing, stray):
        assert repo.get(ticket.number).sla.resolution.due == T0 + timedelta(minutes=240)
    # (pending since creation, the clock resumes at now: 10 minutes in, plus 240)
    assert repo.get(waiting.number).sla.resolution.due == now + timedelta(minutes=240)
    assert repo.get(closed.number).version == closed.version
    assert "sla_recomputed" in [event.action for event in repo.thread(billing.number).events]

    # WHEN the default calendar becomes weekdays 08:00-09:00 UTC only
    store.save_calendar(
        Calendar(
            id="default",
            hours={d: [("08:00", "09:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        ),
        repo,
        now=now,
    )

    # THEN 240 business minutes from Wednesday 08:00Z take four working hours: Wednesday,
    # Thursday, Friday, and Monday 2026-03-23 08:00-09:00Z, so due Monday 09:00Z
    assert repo.get(loose.number).sla.resolution.due == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def test_a_policy_naming_a_calendar_that_is_not_stored_is_refused(table: Any) -> None:
    store = SlaStore(ConfigRepository(table))

    with pytest.raises(ValidationError) as refused:
        store.save_policy(
            SlaPolicy(id="gold", calendar_id="berlin"), TicketRepository(table), now=T0
        )

    assert refused.value.field == "calendar_id"
    assert store.rules().policies == []
