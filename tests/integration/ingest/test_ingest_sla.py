"""Mail that opens or joins a ticket sets its SLA deadlines in the same write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.data.config import ConfigRepository
from helpdesk.sla.policy import SlaPolicy, Targets
from helpdesk.sla.service import SlaStore
from helpdesk_tools.ingest_desk import LocalIngestDesk
from tests.integration.ingest.conftest import MailBuilder

RECEIVED = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def _calendar_hours_policy(desk: LocalIngestDesk) -> None:
    SlaStore(ConfigRepository(desk.table)).save_policy(
        SlaPolicy(
            id="email",
            business_hours=False,
            targets=Targets(first_response=60, next_response=30, resolution=480),
        ),
        desk.tickets,
        now=RECEIVED,
    )


def test_a_ticket_opened_by_mail_gets_its_deadlines(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    _calendar_hours_policy(desk)

    [result] = desk.deliver(mail(), received_at=RECEIVED)

    ticket = desk.tickets.get(result["ticket_number"])
    assert ticket.sla.policy_id == "email"
    # Calendar hours: created 09:30 UTC, first response within 60 min, resolution within 480.
    assert ticket.sla.first_response.due == RECEIVED + timedelta(minutes=60)
    assert ticket.sla.resolution.due == RECEIVED + timedelta(minutes=480)
    assert [t.number for t in desk.tickets.due_before(RECEIVED + timedelta(minutes=61))] == [
        ticket.number
    ]


def test_a_customer_reply_by_mail_recomputes_the_deadlines(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    _calendar_hours_policy(desk)
    [opened] = desk.deliver(mail(), received_at=RECEIVED)
    first_due = desk.tickets.get(opened["ticket_number"]).sla.first_response.due

    desk.deliver(
        mail(
            subject="Re: The printer is on fire",
            message_id="<second@customer.example>",
            in_reply_to="<first@customer.example>",
            body="Still smoking.",
        ),
        received_at=RECEIVED + timedelta(minutes=20),
    )

    ticket = desk.tickets.get(opened["ticket_number"])
    assert ticket.sla.first_response.due == first_due
    assert ticket.sla.resolution.due == RECEIVED + timedelta(minutes=480)
    assert ticket.updated_at == RECEIVED + timedelta(minutes=20)


def test_suspended_mail_gets_no_deadlines(desk: LocalIngestDesk, mail: MailBuilder) -> None:
    _calendar_hours_policy(desk)

    [result] = desk.deliver(mail(), received_at=RECEIVED, verdicts={"spam": "FAIL"})

    ticket = desk.tickets.get(result["ticket_number"])
    assert ticket.suspended
    assert ticket.sla.first_response.due is None
