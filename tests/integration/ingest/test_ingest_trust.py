"""Who may write into a ticket, which bounces are believed, and where automatic mail goes.

Attacks a tester ran on the email flow, replayed against moto: a stranger joining a ticket
with a leaked Message-ID, a forged bounce, an acknowledgement aimed at a third party through
Reply-To, and a reply addressed to our own support address.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.domain.models import DeliveryState, Direction, Message, MessageKind, Status
from helpdesk.domain.transitions import change_status
from helpdesk.mail.outbound import OutboundQueue, queue_reply
from helpdesk.mail.threading import subject_tag
from helpdesk.portal.views import is_public
from helpdesk.settings import ingest_settings
from helpdesk_tools.ingest_desk import LocalIngestDesk, sent_mail

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
SECRET = "local-development-secret"
MALLORY = "Mallory <mallory@evil.test>"
MailBuilder = Callable[..., bytes]


def _one(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(results) == 1, results
    return results[0]


def _open_ticket(desk: LocalIngestDesk, mail: MailBuilder, **fields: Any) -> int:
    result = _one(desk.deliver(mail(**fields), received_at=NOW))
    assert result["disposition"] == "created"
    return int(result["ticket_number"])


def _message(desk: LocalIngestDesk, number: int, message_id: str) -> Message:
    (found,) = [m for m in desk.tickets.thread(number).messages if m.message_id == message_id]
    return found


def _outbound(desk: LocalIngestDesk, number: int) -> list[Message]:
    return [m for m in desk.tickets.thread(number).messages if m.direction == Direction.OUTBOUND]


def _solve(desk: LocalIngestDesk, number: int) -> None:
    before = desk.tickets.get(number)
    solved, event = change_status(before, Status.SOLVED, now=NOW, actor="agent@example.com")
    desk.tickets.save(before, solved, [event])


def _sent_to(moto_endpoint: str, address: str) -> list[dict[str, Any]]:
    return [m for m in sent_mail(moto_endpoint) if address in m.get("destinations", [])]


# -- a stranger with a leaked Message-ID ------------------------------------------------------


def test_a_stranger_answering_by_in_reply_to_is_kept_as_a_note_the_customer_never_sees(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    _solve(desk, number)

    result = _one(
        desk.deliver(
            mail(
                sender=MALLORY,
                subject="Re: The printer is on fire",
                body="Please wire the refund to my new account.",
                message_id="<m1@evil.test>",
                in_reply_to="<first@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("noted", number)
    note = _message(desk, number, "<m1@evil.test>")
    assert note.kind == MessageKind.SYSTEM
    assert not is_public(note)  # the filter the customer portal shows messages through
    thread = desk.tickets.thread(number)
    assert thread.ticket.status == Status.SOLVED
    (audit,) = [e for e in thread.events if e.action == "third_party_mail_noted"]
    assert (audit.actor, audit.changes["rule"]) == ("mallory@evil.test", "in_reply_to")


def test_a_stranger_answering_by_references_is_kept_as_a_note(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    result = _one(
        desk.deliver(
            mail(
                sender=MALLORY,
                message_id="<m2@evil.test>",
                references="<unknown@elsewhere.test> <first@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("noted", number)
    assert not is_public(_message(desk, number, "<m2@evil.test>"))


def test_a_strangers_note_does_not_let_them_in_and_our_next_reply_does_not_answer_it(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    desk.deliver(
        mail(sender=MALLORY, message_id="<m3@evil.test>", in_reply_to="<first@customer.example>"),
        received_at=LATER,
    )

    again = _one(
        desk.deliver(
            mail(sender=MALLORY, message_id="<m4@evil.test>", in_reply_to="<m3@evil.test>"),
            received_at=LATER,
        )
    )
    reply = queue_reply(
        desk.tickets,
        OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"]),
        ingest_settings(),
        ticket_number=number,
        text="We are on it.",
        author="agent@example.com",
        now=LATER,
    )

    assert again["disposition"] == "noted"
    assert reply.in_reply_to == "<first@customer.example>"
    assert "<m3@evil.test>" not in reply.references


def test_a_colleague_answering_our_mail_with_its_token_joins_as_a_public_reply(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    result = _one(
        desk.deliver(
            mail(
                sender="Bob <bob@customer.example>",
                subject=f"Re: The printer is on fire {subject_tag(number, SECRET)}",
                message_id="<bob-1@customer.example>",
                in_reply_to="<first@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)
    assert is_public(_message(desk, number, "<bob-1@customer.example>"))


def test_the_requesters_reply_to_address_answering_by_in_reply_to_joins_as_a_reply(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail, headers={"Reply-To": "ada.home@customer.example"})

    result = _one(
        desk.deliver(
            mail(
                sender="ada.home@customer.example",
                message_id="<home-1@customer.example>",
                in_reply_to="<first@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)
    assert is_public(_message(desk, number, "<home-1@customer.example>"))


# -- forged bounces ---------------------------------------------------------------------------


def _ses_bounce_json(original_message_id: str, recipient: str) -> str:
    return json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bouncedRecipients": [{"emailAddress": recipient}],
            },
            "mail": {"source": "support@example.com", "messageId": original_message_id},
        }
    )


def _sent_acknowledgement(desk: LocalIngestDesk, number: int) -> Message:
    desk.drain_outbound()
    (ack,) = _outbound(desk, number)
    assert ack.delivery_state == DeliveryState.SENT and ack.provider_message_id
    return ack


def test_a_person_imitating_an_ses_bounce_changes_no_message(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    ack = _sent_acknowledgement(desk, number)
    assert ack.provider_message_id is not None

    result = _one(
        desk.deliver(
            mail(
                sender=MALLORY,
                subject="Delivery notification",
                body=_ses_bounce_json(ack.provider_message_id, "ada@customer.example"),
                message_id="<fake-bounce@evil.test>",
                in_reply_to=ack.message_id,
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["outcome"]) == ("rejected", "bounce")
    assert _outbound(desk, number)[0].delivery_state == DeliveryState.SENT


def test_an_ses_bounce_with_a_null_envelope_sender_marks_our_mail_bounced(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    ack = _sent_acknowledgement(desk, number)
    assert ack.provider_message_id is not None

    result = _one(
        desk.deliver(
            mail(
                sender="no-reply@sns.amazonaws.com",
                subject="AWS Notification Message",
                body=_ses_bounce_json(ack.provider_message_id, "ada@customer.example"),
                message_id="<real-bounce@sns.amazonaws.com>",
                headers={"Return-Path": "<>"},
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["outcome"]) == ("rejected", "bounce")
    assert _outbound(desk, number)[0].delivery_state == DeliveryState.BOUNCED


def test_a_daemon_bounce_for_someone_our_mail_never_went_to_changes_no_message(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    ack = _sent_acknowledgement(desk, number)
    assert ack.provider_message_id is not None

    result = _one(
        desk.deliver(
            mail(
                sender="MAILER-DAEMON@mx.customer.example",
                subject="Undelivered Mail Returned to Sender",
                body=_ses_bounce_json(ack.provider_message_id, "someone@else.test"),
                message_id="<dsn-other@mx.customer.example>",
                headers={"Return-Path": "<>"},
            ),
            received_at=LATER,
        )
    )

    assert result["outcome"] == "bounce"
    assert _outbound(desk, number)[0].delivery_state == DeliveryState.SENT


# -- where automatic mail and replies go ------------------------------------------------------


def test_the_acknowledgement_goes_to_the_from_address_never_to_reply_to(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    number = _open_ticket(
        desk,
        mail,
        sender=MALLORY,
        subject="Cheap pills at evil.test",
        message_id="<spam@evil.test>",
        headers={"Reply-To": "victim@third.test"},
    )

    desk.drain_outbound()

    (ack,) = _outbound(desk, number)
    assert ack.delivery_state == DeliveryState.SENT
    (sent,) = sent_mail(moto_endpoint, {ack.provider_message_id or ""})
    assert set(sent["destinations"]) == {"mallory@evil.test"}
    assert "To: mallory@evil.test" in sent["raw_data"]
    assert _sent_to(moto_endpoint, "victim@third.test") == []


def test_an_agents_reply_still_goes_to_the_requesters_reply_to(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    number = _open_ticket(desk, mail, headers={"Reply-To": "ada.desk@customer.example"})
    desk.drain_outbound()

    reply = queue_reply(
        desk.tickets,
        OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"]),
        ingest_settings(),
        ticket_number=number,
        text="Fixed.",
        author="agent@example.com",
        now=LATER,
    )
    desk.drain_outbound()

    (sent,) = sent_mail(
        moto_endpoint, {_message(desk, number, reply.message_id or "").provider_message_id or ""}
    )
    assert set(sent["destinations"]) == {"ada.desk@customer.example"}


def _reply_to_requester(desk: LocalIngestDesk, mail: MailBuilder, requester: str) -> Message:
    number = _open_ticket(desk, mail)
    desk.drain_outbound()
    before = desk.tickets.get(number)
    desk.tickets.save(before, before.model_copy(update={"requester": requester}), [])
    reply = queue_reply(
        desk.tickets,
        OutboundQueue(desk.sqs, desk.stack.queue_urls["OutboundQueue"]),
        ingest_settings(),
        ticket_number=number,
        text="We are on it.",
        author="agent@example.com",
        now=LATER,
    )
    desk.drain_outbound()
    return _message(desk, number, reply.message_id or "")


def test_a_reply_to_a_ticket_whose_requester_is_our_own_address_is_never_sent(
    desk: LocalIngestDesk, mail: MailBuilder, moto_endpoint: str
) -> None:
    reply = _reply_to_requester(desk, mail, "support+loop@example.com")

    assert reply.delivery_state == DeliveryState.FAILED
    assert reply.delivery_detail == "no deliverable recipient address"
    assert reply.provider_message_id is None
    assert _sent_to(moto_endpoint, "support+loop@example.com") == []


def test_a_reply_to_a_ticket_whose_requester_is_not_an_address_fails_visibly(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    reply = _reply_to_requester(desk, mail, "ada@customer.example, support@example.com")

    assert reply.delivery_state == DeliveryState.FAILED
    assert reply.provider_message_id is None
