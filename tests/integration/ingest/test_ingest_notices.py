"""Internal notices (an SLA escalation to a lead) leave as mail to the agent, not the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_string
from email.policy import default

from helpdesk.domain.models import DeliveryState, Direction, SlaNotification
from helpdesk.mail.outbound import OutboundQueue, queue_reply
from helpdesk.portal.views import is_public
from helpdesk.settings import ingest_settings
from helpdesk.sla.notify import MailNoticeSender
from helpdesk_tools.ingest_desk import LocalIngestDesk, sent_mail
from tests.integration.ingest.conftest import MailBuilder

RECEIVED = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def test_an_sla_notice_is_mailed_to_the_lead_and_kept_from_the_customer(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    [opened] = desk.deliver(mail(), received_at=RECEIVED)
    number = opened["ticket_number"]
    desk.drain_outbound()
    queue = OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"])
    notice = SlaNotification(
        id="n1",
        kind="breach",
        target="first_response",
        channel="email",
        destination="lead@desk.example.org",
        not_before=RECEIVED + timedelta(hours=1),
        claimed_at=RECEIVED + timedelta(hours=1),
    )

    outcome = MailNoticeSender(desk.tickets, queue, ingest_settings()).send(
        notice, desk.tickets.get(number)
    )
    desk.drain_outbound()

    assert outcome.delivered
    [stored] = [m for m in desk.tickets.thread(number).messages if m.recipient]
    assert stored.direction == Direction.INTERNAL
    assert stored.delivery_state == DeliveryState.SENT
    assert not is_public(stored)
    [sent] = [
        message_from_string(item["raw_data"], policy=default)
        for item in sent_mail(moto_endpoint, {stored.provider_message_id or ""})
    ]
    assert sent["To"] == "lead@desk.example.org"
    assert sent["Auto-Submitted"] == "auto-generated"
    assert f"#{number}" in sent.get_content()

    reply = queue_reply(
        desk.tickets,
        queue,
        ingest_settings(),
        ticket_number=number,
        text="We are on it.",
        author="agent-a",
        now=RECEIVED + timedelta(hours=2),
    )
    assert stored.message_id not in reply.references


def test_a_rule_notification_mails_its_addressee(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    from helpdesk.automation.effects import DeskEffects
    from helpdesk.automation.rules import Action, Effect
    from helpdesk.events import EventPublisher

    [opened] = desk.deliver(mail(), received_at=RECEIVED)
    number = opened["ticket_number"]
    desk.drain_outbound()
    effects = DeskEffects(
        desk.table,
        OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"]),
        ingest_settings(),
        EventPublisher(desk.session.client("events"), "default"),
        webhook_secret="w" * 32,
    )

    effects.run(
        Effect(
            rule_id="vip",
            action=Action(
                type="notify", to="lead@desk.example.org", message="VIP #{{ticket.number}}"
            ),
        ),
        desk.tickets.get(number),
        now=RECEIVED + timedelta(minutes=5),
    )
    desk.drain_outbound()

    [notice] = [m for m in desk.tickets.thread(number).messages if m.recipient]
    assert notice.text == f"VIP #{number}"
    assert notice.delivery_state == DeliveryState.SENT
    [sent] = sent_mail(moto_endpoint, {notice.provider_message_id or ""})
    assert set(sent["destinations"]) == {"lead@desk.example.org"}
