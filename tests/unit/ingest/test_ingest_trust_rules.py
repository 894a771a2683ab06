"""The pure trust rules of the email flow: who is in a thread, which bounces are believed,
where an outbound message may go."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.domain.models import Direction, Message, MessageKind, Status, Ticket
from helpdesk.mail.events import Delivery, envelope_sender_of, lambda_action_event
from helpdesk.mail.ingest import Action, believable_bounce, decide, envelope_sender
from helpdesk.mail.model import ParsedMail
from helpdesk.mail.outbound import recipient_of, thread_headers
from helpdesk.mail.threading import MatchRule, thread_participants
from helpdesk.settings import MailSettings

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
SETTINGS = MailSettings(mail_bucket="m", attachment_bucket="a", support_address="help@example.com")
TICKET = Ticket(
    number=7,
    subject="s",
    requester="ada@customer.example",
    reply_to="ada.desk@customer.example",
    created_at=NOW,
    updated_at=NOW,
)


def _message(author: str, *, kind: MessageKind = MessageKind.PUBLIC_REPLY, **fields: object):
    return Message.model_validate(
        {
            "ticket_number": 7,
            "id": author[:8],
            "created_at": NOW,
            "direction": Direction.INBOUND,
            "kind": kind,
            "author": author,
            "message_id": f"<{author}>",
            **fields,
        }
    )


def _decide(rule: MatchRule, *, in_thread: bool, status: Status = Status.SOLVED):
    return decide(
        ParsedMail(requester="mallory@evil.test", message_id="<m@evil.test>"),
        failed_verdicts=[],
        match=TICKET.model_copy(update={"status": status}),
        rule=rule,
        settings=SETTINGS,
        now=NOW,
        sender_in_thread=in_thread,
    )


@pytest.mark.parametrize("rule", [MatchRule.IN_REPLY_TO, MatchRule.REFERENCES])
def test_a_stranger_matched_by_message_id_joins_as_a_note_without_reopening(
    rule: MatchRule,
) -> None:
    decision = _decide(rule, in_thread=False)

    assert (decision.action, decision.as_note, decision.third_party) == (Action.JOIN, True, True)
    assert (decision.reopen, decision.acknowledge) == (False, False)


@pytest.mark.parametrize("rule", [MatchRule.TOKEN_IN_ADDRESS, MatchRule.TOKEN_IN_SUBJECT])
def test_a_token_match_is_trusted_whoever_sends_it(rule: MatchRule) -> None:
    decision = _decide(rule, in_thread=False)

    assert (decision.action, decision.as_note, decision.reopen) == (Action.JOIN, False, True)


def test_a_stranger_matching_a_closed_ticket_by_message_id_gets_a_ticket_of_their_own() -> None:
    decision = _decide(MatchRule.IN_REPLY_TO, in_thread=False, status=Status.CLOSED)

    assert (decision.action, decision.follow_up_of) == (Action.NEW_TICKET, None)


def test_participants_are_requester_reply_to_and_earlier_public_senders_not_noted_ones() -> None:
    messages = [
        _message("bob@customer.example"),
        _message("mallory@evil.test", kind=MessageKind.SYSTEM),
    ]

    assert thread_participants(TICKET, messages) == {
        "ada@customer.example",
        "ada.desk@customer.example",
        "bob@customer.example",
    }


@pytest.mark.parametrize(
    ("envelope", "believed"),
    [
        ("", True),
        ("<>", True),
        ("MAILER-DAEMON@mx.customer.example", True),
        ("postmaster@customer.example", True),
        ("mallory@evil.test", False),
        ("mailer-daemon-fan@evil.test", False),
        (None, False),
    ],
)
def test_only_a_null_or_daemon_envelope_sender_makes_a_bounce_believable(
    envelope: str | None, believed: bool
) -> None:
    assert believable_bounce(envelope) is believed


def test_the_envelope_sender_is_ses_source_else_the_return_path() -> None:
    raw = b"Return-Path: <>\r\nFrom: mallory@evil.test\r\n\r\nbody"

    assert envelope_sender(Delivery(ses_message_id="x", source="m@evil.test"), raw) == "m@evil.test"
    assert envelope_sender(Delivery(ses_message_id="x"), raw) == ""
    assert envelope_sender(Delivery(ses_message_id="x"), b"From: a@b.test\r\n\r\n") is None


def test_a_local_event_carries_the_return_path_or_from_as_its_envelope_sender() -> None:
    from_only = [{"name": "From", "value": "Mallory <mallory@evil.test>"}]
    null = [{"name": "Return-Path", "value": "<>"}, *from_only]

    event = lambda_action_event("id", recipients=[], received_at=NOW, headers=from_only)

    assert event["Records"][0]["ses"]["mail"]["source"] == "mallory@evil.test"
    assert envelope_sender_of(null) == ""


def test_automatic_mail_goes_to_the_requester_and_a_reply_to_the_reply_to() -> None:
    automatic = _message("help@example.com", auto_submitted="auto-replied")
    reply = _message("agent@example.com")

    assert recipient_of(TICKET, automatic, SETTINGS) == "ada@customer.example"
    assert recipient_of(TICKET, reply, SETTINGS) == "ada.desk@customer.example"


@pytest.mark.parametrize(
    ("requester", "reply_to", "expected"),
    [
        ("help@example.com", None, None),
        ("HELP+7-abc@example.com", None, None),
        ("not an address", None, None),
        ("a@customer.example, help@example.com", None, None),
        ("ada@customer.example", "help@example.com", "ada@customer.example"),
    ],
)
def test_no_outbound_message_goes_to_our_own_or_an_invalid_address(
    requester: str, reply_to: str | None, expected: str | None
) -> None:
    ticket = TICKET.model_copy(update={"requester": requester, "reply_to": reply_to})

    assert recipient_of(ticket, _message("agent@example.com"), SETTINGS) == expected


def test_our_reply_never_answers_or_references_a_note() -> None:
    thread = [
        _message("ada@customer.example"),
        _message("mallory@evil.test", kind=MessageKind.SYSTEM),
    ]

    assert thread_headers(thread) == ("<ada@customer.example>", ["<ada@customer.example>"])
