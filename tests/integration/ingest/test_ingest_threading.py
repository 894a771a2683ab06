"""Mail in through the ingest handler against moto: threading, duplicates, reopening, loops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk.domain.models import DeliveryState, Direction, MessageKind, Status
from helpdesk.domain.transitions import change_status
from helpdesk.mail.threading import reply_address, subject_tag
from helpdesk_tools.ingest_desk import LocalIngestDesk, reset_cached_wiring

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
SECRET = "local-development-secret"
MailBuilder = Callable[..., bytes]


def _one(results: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(results) == 1, results
    return results[0]


def _open_ticket(desk: LocalIngestDesk, mail: MailBuilder, **fields: Any) -> int:
    result = _one(desk.deliver(mail(**fields), received_at=NOW))
    assert result["disposition"] == "created"
    return int(result["ticket_number"])


def _inbound(desk: LocalIngestDesk, number: int) -> list[str]:
    thread = desk.tickets.thread(number)
    return [m.message_id or "" for m in thread.messages if m.direction == Direction.INBOUND]


def test_mail_without_any_thread_id_opens_a_new_ticket_for_its_sender(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    thread = desk.tickets.thread(number)
    assert thread.ticket.requester == "ada@customer.example"
    assert thread.ticket.subject == "The printer is on fire"
    assert thread.ticket.channel.value == "email"
    assert thread.ticket.suspended is False
    inbound = [m for m in thread.messages if m.direction == Direction.INBOUND]
    assert len(inbound) == 1
    assert inbound[0].visible_text.startswith("It smokes")
    assert inbound[0].verdicts["spam"] == "PASS"
    assert inbound[0].source_key and inbound[0].source_key.startswith("inbound/")


def test_new_ticket_from_email_gets_one_acknowledgement_with_its_number_queued(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    outbound = [
        m for m in desk.tickets.thread(number).messages if m.direction == Direction.OUTBOUND
    ]
    assert len(outbound) == 1
    ack = outbound[0]
    assert ack.kind == MessageKind.SYSTEM
    assert ack.delivery_state == DeliveryState.QUEUED
    assert ack.auto_submitted == "auto-replied"
    assert f"#{number}" in ack.text
    assert ack.in_reply_to == "<first@customer.example>"
    assert ack.message_id and ack.message_id.endswith("@example.com>")


def test_reply_with_the_token_in_the_recipient_address_joins_its_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    address = reply_address("support@example.com", number, SECRET)

    result = _one(
        desk.deliver(
            mail(subject="something else", message_id="<second@customer.example>", to=address),
            received_at=LATER,
            recipients=[address],
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)
    assert _inbound(desk, number) == ["<first@customer.example>", "<second@customer.example>"]


def test_reply_with_the_token_in_the_subject_joins_its_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    result = _one(
        desk.deliver(
            mail(
                subject=f"Re: The printer {subject_tag(number, SECRET)}",
                message_id="<second@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)


def test_reply_with_only_in_reply_to_joins_its_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    result = _one(
        desk.deliver(
            mail(
                subject="no tag here",
                message_id="<second@customer.example>",
                in_reply_to="<first@customer.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)


def test_reply_with_only_references_joins_its_ticket_past_an_unknown_id(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    ack_id = next(
        m.message_id
        for m in desk.tickets.thread(number).messages
        if m.direction == Direction.OUTBOUND
    )

    result = _one(
        desk.deliver(
            mail(
                subject="no tag here",
                message_id="<second@customer.example>",
                references=f"<nobody-knows@elsewhere.example> {ack_id} <also-unknown@x.example>",
            ),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)


def test_forged_token_opens_a_new_ticket_instead_of_writing_into_the_guessed_one(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    forged = f"support+{number}-aaaaaaaaaa@example.com"

    result = _one(
        desk.deliver(
            mail(
                sender="mallory@attacker.example",
                subject=f"Re: [#{number}-bbbbbbbbbb] let me in",
                message_id="<evil@attacker.example>",
                to=forged,
            ),
            received_at=LATER,
            recipients=[forged],
        )
    )

    assert result["disposition"] == "created"
    assert result["ticket_number"] != number
    assert _inbound(desk, number) == ["<first@customer.example>"]


def test_the_same_mail_delivered_three_times_yields_one_message(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    raw = mail()

    results = [_one(desk.deliver(raw, received_at=NOW)) for _ in range(3)]

    assert [r["disposition"] for r in results] == ["created", "duplicate", "duplicate"]
    number = results[0]["ticket_number"]
    assert {r["ticket_number"] for r in results} == {number}
    assert _inbound(desk, number) == ["<first@customer.example>"]
    acks = [m for m in desk.tickets.thread(number).messages if m.direction == Direction.OUTBOUND]
    assert len(acks) == 1


@pytest.mark.parametrize("verdict", ["spam", "virus"])
def test_failed_spam_or_virus_verdict_suspends_the_ticket_without_acknowledgement(
    desk: LocalIngestDesk, mail: MailBuilder, verdict: str
) -> None:
    result = _one(desk.deliver(mail(), received_at=NOW, verdicts={verdict: "FAIL"}))

    assert result["disposition"] == "suspended"
    assert result["acknowledged"] is False
    thread = desk.tickets.thread(result["ticket_number"])
    assert thread.ticket.suspended is True
    assert thread.ticket.team == "suspended"
    assert thread.ticket.suspended_reason == f"{verdict} verdict FAIL"
    assert [m.direction for m in thread.messages] == [Direction.INBOUND]
    assert thread.messages[0].verdicts[verdict] == "FAIL"


def test_spam_carrying_a_valid_token_does_not_join_the_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    result = _one(
        desk.deliver(
            mail(subject=f"Re: {subject_tag(number, SECRET)}", message_id="<spam@x.example>"),
            received_at=LATER,
            verdicts={"spam": "FAIL"},
        )
    )

    assert result["disposition"] == "suspended"
    assert result["ticket_number"] != number


def test_reply_to_a_solved_ticket_reopens_it(desk: LocalIngestDesk, mail: MailBuilder) -> None:
    number = _open_ticket(desk, mail)
    before = desk.tickets.get(number)
    solved, event = change_status(before, Status.SOLVED, now=NOW, actor="agent@example.com")
    desk.tickets.save(before, solved, [event])

    result = _one(
        desk.deliver(
            mail(message_id="<again@customer.example>", in_reply_to="<first@customer.example>"),
            received_at=LATER,
        )
    )

    assert (result["disposition"], result["ticket_number"]) == ("joined", number)
    assert desk.tickets.get(number).status == Status.OPEN


def test_reopening_on_reply_can_be_turned_off(
    desk: LocalIngestDesk, mail: MailBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_REOPEN_SOLVED_ON_REPLY", "false")
    reset_cached_wiring()
    number = _open_ticket(desk, mail)
    before = desk.tickets.get(number)
    solved, event = change_status(before, Status.SOLVED, now=NOW, actor="agent@example.com")
    desk.tickets.save(before, solved, [event])

    result = _one(
        desk.deliver(
            mail(message_id="<again@customer.example>", in_reply_to="<first@customer.example>"),
            received_at=LATER,
        )
    )

    assert result["disposition"] == "joined"
    assert desk.tickets.get(number).status == Status.SOLVED


def test_reply_to_a_closed_ticket_opens_a_follow_up_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    before = desk.tickets.get(number)
    closed, event = change_status(before, Status.CLOSED, now=NOW, actor="agent@example.com")
    desk.tickets.save(before, closed, [event])

    result = _one(
        desk.deliver(
            mail(message_id="<again@customer.example>", in_reply_to="<first@customer.example>"),
            received_at=LATER,
        )
    )

    assert result["disposition"] == "follow_up"
    assert result["ticket_number"] != number
    assert desk.tickets.get(number).status == Status.CLOSED
    assert "follow_up" in desk.tickets.get(result["ticket_number"]).tags


def test_acknowledgements_to_one_address_are_rate_limited(
    desk: LocalIngestDesk, mail: MailBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_AUTO_REPLY_LIMIT_PER_HOUR", "2")
    reset_cached_wiring()

    results = [
        _one(desk.deliver(mail(message_id=f"<m{i}@customer.example>"), received_at=NOW))
        for i in range(4)
    ]

    assert [r["disposition"] for r in results] == ["created"] * 4
    assert [r["acknowledged"] for r in results] == [True, True, False, False]


def test_acknowledgements_can_be_turned_off(
    desk: LocalIngestDesk, mail: MailBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_SEND_ACKNOWLEDGEMENT", "false")
    reset_cached_wiring()

    result = _one(desk.deliver(mail(), received_at=NOW))

    assert result["disposition"] == "created"
    assert result["acknowledged"] is False


def test_mail_from_our_own_support_address_is_refused_as_a_loop(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    result = _one(desk.deliver(mail(sender="Support <support@example.com>"), received_at=NOW))

    assert result["disposition"] == "rejected"
    assert result["reason"] == "mail from our own support address"


def test_raw_mail_stays_in_the_mail_bucket_after_ingest(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    raw = mail()
    number = _open_ticket(desk, mail)

    message = desk.tickets.thread(number).messages[0]
    stored = desk.s3.get_object(Bucket=desk.stack.buckets["MailBucket"], Key=message.source_key)
    assert stored["Body"].read() == raw


def test_the_same_mail_delivered_concurrently_yields_one_ticket_and_one_message(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    raw = mail()

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = [
            _one(r) for r in pool.map(lambda _: desk.deliver(raw, received_at=NOW), range(3))
        ]

    assert sorted(r["disposition"] for r in results) == ["created", "duplicate", "duplicate"]
    number = next(r["ticket_number"] for r in results if r["disposition"] == "created")
    assert _inbound(desk, number) == ["<first@customer.example>"]
    inbound_items = [
        item
        for item in desk.table.scan()["Items"]
        if item.get("entity") == "message" and item.get("direction") == "inbound"
    ]
    assert len(inbound_items) == 1


def test_an_out_of_office_reply_is_never_acknowledged_and_opens_no_ticket(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)
    ack_id = next(
        m.message_id
        for m in desk.tickets.thread(number).messages
        if m.direction == Direction.OUTBOUND
    )
    out_of_office = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}

    threaded = _one(
        desk.deliver(
            mail(
                subject="Automatic reply: The printer is on fire",
                message_id="<ooo1@customer.example>",
                in_reply_to=ack_id,
                headers=out_of_office,
            ),
            received_at=LATER,
        )
    )
    unthreaded = _one(
        desk.deliver(
            mail(
                subject="Out of office",
                message_id="<ooo2@customer.example>",
                headers=out_of_office,
            ),
            received_at=LATER,
        )
    )

    assert (threaded["disposition"], threaded["acknowledged"]) == ("noted", False)
    assert (unthreaded["disposition"], unthreaded["outcome"]) == ("rejected", "auto_reply")
    outbound = [
        m for m in desk.tickets.thread(number).messages if m.direction == Direction.OUTBOUND
    ]
    assert len(outbound) == 1
    assert desk.tickets.get(number).status == Status.OPEN


def test_a_different_mail_that_reuses_a_message_id_is_kept_not_dropped(
    desk: LocalIngestDesk, mail: MailBuilder
) -> None:
    number = _open_ticket(desk, mail)

    reused = _one(
        desk.deliver(mail(subject="Another problem", body="The scanner jams."), received_at=LATER)
    )
    again = _one(
        desk.deliver(mail(subject="Another problem", body="The scanner jams."), received_at=LATER)
    )

    assert reused["disposition"] == "created" and reused["ticket_number"] != number
    assert (again["disposition"], again["ticket_number"]) == ("duplicate", reused["ticket_number"])
    first = desk.tickets.thread(number).messages[0]
    second = desk.tickets.thread(reused["ticket_number"]).messages[0]
    assert first.text.strip() == "It smokes since this morning."
    assert second.text.strip() == "The scanner jams."
    assert second.message_id != first.message_id
