"""The AI first responder on real tickets in the one table (moto), with the local answerer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest

from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    Channel,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Priority,
    Status,
    Triage,
)
from helpdesk.exceptions import UnauthorizedError
from helpdesk.kb.confirm import Choice
from helpdesk.kb.responder import (
    AI_LINE,
    PENDING_TAG,
    ResponderPolicy,
    ResponderService,
    confirm,
    maybe_answer,
    on_customer_reply,
)
from helpdesk.kb.service import KnowledgeBase
from helpdesk.mail.outbound import OutboundQueue, SendJob

NOW = datetime(2026, 2, 3, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def table(kb_table: Any) -> Any:
    """The module's one table (the KB's), shared by every test here."""
    return kb_table


def links_in(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if "/api/portal/kb/confirm?token=" in line:
            url = line.split(": ", 1)[1].strip()
            found["yes" if line.startswith("Yes") else "no"] = parse_qs(urlparse(url).query)[
                "token"
            ][0]
    return found


def ai_reply(table: Any, number: int) -> Message:
    thread = TicketRepository(table).thread(number)
    return next(m for m in thread.messages if m.direction == Direction.OUTBOUND)


def test_a_confident_match_is_answered_and_waits_for_the_customer(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)

    outcome = maybe_answer(number, now=NOW, service=service)

    thread = TicketRepository(table).thread(number)
    assert outcome.answered and outcome.articles == ["reset-password"]
    assert thread.ticket.status == Status.PENDING and PENDING_TAG in thread.ticket.tags
    reply = ai_reply(table, number)
    assert reply.ai_generated and reply.kind == MessageKind.PUBLIC_REPLY
    assert "Forgot password" in reply.text
    assert "https://help.example.com/help/articles/reset-password" in reply.text
    assert "Did this solve it?" in reply.text and AI_LINE in reply.text
    assert set(links_in(reply.text)) == {"yes", "no"}
    ai_events = [e for e in thread.events if e.ai]
    assert {e.action for e in ai_events} == {"status_changed", "ai_answered"}


def test_yes_solves_the_ticket_as_ai_resolved_and_both_links_then_stop_working(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)
    maybe_answer(number, now=NOW, service=service)
    tokens = links_in(ai_reply(table, number).text)

    assert confirm(tokens["yes"], now=NOW + timedelta(minutes=5), service=service) == (
        number,
        Choice.YES,
    )

    ticket = TicketRepository(table).get(number)
    assert ticket.status == Status.SOLVED and ticket.ai_resolved
    assert PENDING_TAG not in ticket.tags
    for token in (tokens["yes"], tokens["no"]):
        with pytest.raises(UnauthorizedError):
            confirm(token, now=NOW + timedelta(minutes=6), service=service)


def test_no_hands_the_ticket_back_to_its_team_with_a_note_of_what_was_tried(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)
    maybe_answer(number, now=NOW, service=service)
    tokens = links_in(ai_reply(table, number).text)

    confirm(tokens["no"], now=NOW + timedelta(minutes=5), service=service)

    thread = TicketRepository(table).thread(number)
    assert thread.ticket.status == Status.OPEN and thread.ticket.team == "support"
    assert not thread.ticket.ai_resolved and PENDING_TAG not in thread.ticket.tags
    [note] = [m for m in thread.messages if m.kind == MessageKind.INTERNAL_NOTE]
    assert note.ai_generated
    assert "did not solve it" in note.text and "reset-password" in note.text
    assert any(e.action == "ai_handed_back" and e.ai for e in thread.events)


def test_a_customer_reply_hands_the_ticket_back_and_voids_the_links(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)
    maybe_answer(number, now=NOW, service=service)
    thread = TicketRepository(table).thread(number)
    tokens = links_in(ai_reply(table, number).text)
    first = thread.messages[0]
    reply = first.model_copy(
        update={"id": "reply-1", "created_at": NOW + timedelta(minutes=3), "text": "still broken"}
    )

    assert not on_customer_reply(first, now=NOW + timedelta(minutes=3), service=service)
    assert on_customer_reply(reply, now=NOW + timedelta(minutes=3), service=service)

    ticket = TicketRepository(table).get(number)
    assert ticket.status == Status.OPEN
    with pytest.raises(UnauthorizedError):
        confirm(tokens["yes"], now=NOW + timedelta(minutes=4), service=service)
    assert not on_customer_reply(reply, now=NOW + timedelta(minutes=5), service=service)


def test_our_own_messages_and_notes_do_not_count_as_a_customer_reply(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)
    maybe_answer(number, now=NOW, service=service)
    later = NOW + timedelta(minutes=3)

    handed = [
        on_customer_reply(ai_reply(table, number).model_copy(update={"created_at": later}),
                          now=later, service=service),
        on_customer_reply(
            Message(ticket_number=number, id="n1", created_at=later,
                    direction=Direction.INTERNAL, kind=MessageKind.INTERNAL_NOTE, author="a-1"),
            now=later, service=service,
        ),
    ]  # fmt: skip

    assert handed == [False, False]
    assert TicketRepository(table).get(number).status == Status.PENDING


def test_an_expired_link_is_refused(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(table)
    maybe_answer(number, now=NOW, service=service)
    tokens = links_in(ai_reply(table, number).text)

    with pytest.raises(UnauthorizedError, match="expired"):
        confirm(tokens["yes"], now=NOW + timedelta(days=8), service=service)
    assert TicketRepository(table).get(number).status == Status.PENDING


@pytest.mark.parametrize(
    ("fields", "policy", "reason"),
    [
        ({"suspended": True, "suspended_reason": "spam"}, {}, "suspended"),
        ({"auto_submitted": "auto-replied"}, {}, "automatic_mail"),
        ({"category": "billing"}, {"excluded_categories": ["Billing"]}, "category_excluded"),
        ({"requester": "boss@vip.example"}, {"excluded_requesters": ["@vip.example"]},
         "requester_excluded"),
        ({"priority": Priority.URGENT}, {}, "urgent"),
        ({"triage": Triage(sentiment="very_negative")}, {}, "very_negative"),
        ({"assignee": "a-7"}, {}, "not_new"),
        ({"incident_of": 7}, {}, "grouped"),
        ({}, {"enabled": False}, "disabled"),
    ],
)  # fmt: skip
def test_the_responder_never_answers_what_it_must_leave_to_a_person(
    table: Any,
    kb: KnowledgeBase,
    make_service: Any,
    open_ticket: Any,
    fields: dict[str, Any],
    policy: dict[str, Any],
    reason: str,
) -> None:
    service = make_service(table, kb, policy=ResponderPolicy(**policy))
    number = open_ticket(table, **fields)

    outcome = maybe_answer(number, now=NOW, service=service)

    assert (outcome.answered, outcome.reason) == (False, reason)
    thread = TicketRepository(table).thread(number)
    assert thread.ticket.status == Status.OPEN
    assert not any(m.direction == Direction.OUTBOUND for m in thread.messages)


def test_an_angry_customer_is_left_to_a_person(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(
        table,
        "This is terrible, awful, the worst service ever!!! I hate this, useless, I can't "
        "reset my password and I am furious!!!",
    )

    outcome = maybe_answer(number, now=NOW, service=service)

    assert outcome.reason == "very_negative"


def test_a_question_the_kb_does_not_cover_is_left_to_a_person(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(
        table, "Does your mobile app support dark mode on tablets?", subject="App theme"
    )

    outcome = maybe_answer(number, now=NOW, service=service)

    assert (outcome.answered, outcome.reason) == (False, "not_confident")
    assert TicketRepository(table).get(number).status == Status.OPEN


def test_internal_articles_are_never_used_to_answer_customers(
    table: Any, service: ResponderService, open_ticket: Any
) -> None:
    number = open_ticket(
        table, "How do agents connect to the office VPN with WireGuard?", subject="office VPN"
    )

    outcome = maybe_answer(number, now=NOW, service=service)

    assert not outcome.answered
    assert "vpn-internal" not in outcome.articles


def test_an_email_ticket_answer_is_queued_through_outbound_mail(
    kb_stack: Any, table: Any, kb: KnowledgeBase, make_service: Any, open_ticket: Any
) -> None:
    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    url = kb_stack.queue_urls["OutboundQueue"]
    service = make_service(table, kb, outbound=OutboundQueue(sqs, url))
    number = open_ticket(table, channel=Channel.EMAIL)

    maybe_answer(number, now=NOW, service=service)

    reply = ai_reply(table, number)
    assert reply.delivery_state == DeliveryState.QUEUED and reply.auto_submitted == "auto-replied"
    assert reply.in_reply_to == f"<in-{number}@customer.example>"
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    jobs = [SendJob.from_json(m["Body"]) for m in received]
    assert SendJob(ticket_number=number, message_id=reply.message_id or "") in jobs


def test_an_answer_that_cannot_be_queued_goes_back_to_a_person(
    table: Any, kb: KnowledgeBase, make_service: Any, open_ticket: Any
) -> None:
    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    missing = sqs.meta.endpoint_url + "/123456789012/no-such-queue"
    service = make_service(table, kb, outbound=OutboundQueue(sqs, missing))
    number = open_ticket(table, channel=Channel.EMAIL)

    outcome = maybe_answer(number, now=NOW, service=service)

    thread = TicketRepository(table).thread(number)
    assert (outcome.answered, outcome.reason) == (False, "not_sent")
    assert thread.ticket.status == Status.OPEN
    assert ai_reply(table, number).delivery_state == DeliveryState.FAILED
    notes = [m for m in thread.messages if m.kind == MessageKind.INTERNAL_NOTE]
    assert len(notes) == 1 and "could not be sent" in notes[0].text


def test_email_answers_respect_the_automatic_mail_cap(
    kb_stack: Any, table: Any, kb: KnowledgeBase, make_service: Any, open_ticket: Any
) -> None:
    from helpdesk.mail.ratelimit import AutoMailLimiter

    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    service = make_service(
        table,
        kb,
        outbound=OutboundQueue(sqs, kb_stack.queue_urls["OutboundQueue"]),
        limiter=AutoMailLimiter(table, 1),
    )
    first = open_ticket(table, channel=Channel.EMAIL, requester="loop@robot.example")
    second = open_ticket(table, channel=Channel.EMAIL, requester="loop@robot.example")

    answered = maybe_answer(first, now=NOW, service=service)
    limited = maybe_answer(second, now=NOW, service=service)

    assert answered.answered
    assert (limited.answered, limited.reason) == (False, "rate_limited")
    assert TicketRepository(table).get(second).status == Status.OPEN
