"""The pure ingest decision: what one parsed mail does to the desk, without any I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.domain.models import Status, Ticket
from helpdesk.mail.ingest import Action, decide, stable_message_id
from helpdesk.mail.model import Outcome, ParsedMail
from helpdesk.mail.threading import MatchRule
from helpdesk.settings import MailSettings

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
SETTINGS = MailSettings(mail_bucket="m", attachment_bucket="a", support_address="help@example.com")


def _mail(**fields: object) -> ParsedMail:
    return ParsedMail.model_validate(
        {"requester": "ada@customer.example", "message_id": "<a@customer.example>", **fields}
    )


def _ticket(status: Status = Status.OPEN) -> Ticket:
    return Ticket(
        number=7,
        subject="s",
        requester="ada@customer.example",
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def _decide(
    mail: ParsedMail,
    match: Ticket | None = None,
    failed: list[str] | None = None,
    settings: MailSettings = SETTINGS,
):
    return decide(
        mail,
        failed_verdicts=failed or [],
        match=match,
        rule=MatchRule.IN_REPLY_TO if match else None,
        settings=settings,
        now=NOW,
    )


def test_unthreaded_customer_mail_opens_an_acknowledged_ticket() -> None:
    decision = _decide(_mail())

    assert (decision.action, decision.acknowledge) == (Action.NEW_TICKET, True)


def test_acknowledgement_follows_the_setting() -> None:
    settings = SETTINGS.model_copy(update={"send_acknowledgement": False})

    assert _decide(_mail(), settings=settings).acknowledge is False


@pytest.mark.parametrize("outcome", [Outcome.BOUNCE, Outcome.ABUSE_REPORT, Outcome.REJECTED])
def test_bounces_abuse_reports_and_unreadable_mail_never_open_a_ticket(outcome: Outcome) -> None:
    decision = _decide(_mail(outcome=outcome, reason="why"), match=_ticket())

    assert decision.action == Action.REJECT
    assert decision.reason == "why"


def test_auto_reply_without_a_thread_is_rejected_and_not_acknowledged() -> None:
    decision = _decide(_mail(outcome=Outcome.AUTO_REPLY, reason="Auto-Submitted: auto-replied"))

    assert (decision.action, decision.acknowledge) == (Action.REJECT, False)


def test_auto_reply_on_a_thread_joins_as_a_note_without_reopening() -> None:
    decision = _decide(_mail(outcome=Outcome.AUTO_REPLY), match=_ticket(Status.SOLVED))

    assert (decision.action, decision.as_note, decision.reopen) == (Action.JOIN, True, False)


def test_failed_virus_verdict_suspends_even_a_threaded_reply() -> None:
    decision = _decide(_mail(), match=_ticket(), failed=["virus"])

    assert decision.action == Action.NEW_TICKET
    assert decision.suspend_reason == "virus verdict FAIL"
    assert decision.acknowledge is False


def test_reply_to_solved_ticket_reopens_it_and_to_closed_ticket_follows_up() -> None:
    assert _decide(_mail(), match=_ticket(Status.SOLVED)).reopen is True
    closed = _decide(_mail(), match=_ticket(Status.CLOSED))
    assert (closed.action, closed.follow_up_of) == (Action.NEW_TICKET, 7)


def test_reply_to_an_open_ticket_joins_without_acknowledgement() -> None:
    decision = _decide(_mail(), match=_ticket(Status.PENDING))

    assert (decision.action, decision.reopen, decision.acknowledge) == (Action.JOIN, False, False)


def test_customer_mail_marked_auto_submitted_is_not_acknowledged() -> None:
    assert _decide(_mail(auto_submitted=True)).acknowledge is False


@pytest.mark.parametrize("sender", ["help@example.com", "HELP+7-abc@Example.com"])
def test_mail_from_our_own_address_is_refused(sender: str) -> None:
    assert _decide(_mail(requester=sender)).action == Action.REJECT


def test_mail_without_a_sender_is_refused_with_that_reason() -> None:
    decision = _decide(_mail(requester=None))

    assert (decision.action, decision.reason) == (Action.REJECT, "no sender address")


def test_mail_without_message_id_gets_a_stable_id_from_its_bytes() -> None:
    mail = _mail(message_id="")

    first = stable_message_id(mail, b"raw bytes")

    assert first == stable_message_id(mail, b"raw bytes")
    assert first != stable_message_id(mail, b"other bytes")
    assert stable_message_id(_mail(), b"raw bytes") == "<a@customer.example>"


def test_raw_bytes_that_the_parser_passed_through_are_made_storable() -> None:
    from helpdesk.mail.ingest import scrub

    mail = scrub(_mail(subject="caf\udce9", references=["<a\udcff@x>"], text="ok"))

    assert mail.subject == "caf\ufffd"
    assert mail.references == ["<a\ufffd@x>"]
    assert mail.model_dump_json()  # storable as JSON


@pytest.mark.parametrize(
    "sender", ["noreply@shop.example", "no-reply+x@shop.example", "MAILER-DAEMON@mx.example"]
)
def test_mail_from_an_unattended_mailbox_opens_a_ticket_but_is_not_acknowledged(
    sender: str,
) -> None:
    decision = _decide(_mail(requester=sender))

    assert (decision.action, decision.acknowledge) == (Action.NEW_TICKET, False)


def test_a_person_whose_name_starts_like_a_robot_is_still_acknowledged() -> None:
    assert _decide(_mail(requester="bouncer.bob@club.example")).acknowledge is True


def test_a_redelivery_is_the_same_content_and_a_reused_id_with_other_content_is_not() -> None:
    from helpdesk.domain.models import Attachment, Direction, Message
    from helpdesk.mail.ingest import derived_message_id, same_content
    from helpdesk.mail.model import ParsedAttachment

    stored = Message(
        ticket_number=7,
        id="m",
        created_at=NOW,
        direction=Direction.INBOUND,
        author="ada@customer.example",
        text="hello",
        attachments=[Attachment(filename="a.pdf", content_type="application/pdf", size=3)],
    )
    pdf = ParsedAttachment(filename="a.pdf", content_type="application/pdf", size=3)

    assert same_content(stored, _mail(text="hello", attachments=[pdf]))
    assert not same_content(stored, _mail(text="hello"))
    assert not same_content(stored, _mail(text="bye", attachments=[pdf]))
    derived = derived_message_id("<a@customer.example>", _mail(text="bye"))
    assert derived.endswith(".a@customer.example>") and derived != "<a@customer.example>"
