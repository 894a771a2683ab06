"""The one-table data layer against moto: every access pattern, locking and duplicate delivery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    Priority,
    SlaClock,
    SlaState,
    Status,
    Ticket,
)
from helpdesk.domain.transitions import change_priority, change_status
from helpdesk.exceptions import ConflictError, DuplicateDeliveryError, NotFoundError

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def _new(repo: TicketRepository, **fields: Any) -> Ticket:
    number = repo.next_number()
    created = fields.pop("created_at", NOW)
    ticket = Ticket(
        number=number,
        subject=fields.pop("subject", f"printer on fire {number}"),
        requester=fields.pop("requester", "ada@example.org"),
        created_at=created,
        updated_at=created,
        **fields,
    )
    message = Message(
        ticket_number=number,
        id=f"m{number}",
        created_at=created,
        direction=Direction.INBOUND,
        author=ticket.requester,
        text="it smokes",
        message_id=f"<mail-{number}@example.org>",
    )
    event = AuditEvent(ticket_number=number, at=created, actor=ticket.requester, action="created")
    return repo.create(ticket, message, event)


def test_ticket_numbers_come_from_an_atomic_counter_and_never_repeat(table: Any) -> None:
    repo = TicketRepository(table)
    numbers: list[int] = []

    def take() -> None:
        for _ in range(10):
            numbers.append(repo.next_number())

    workers = [threading.Thread(target=take) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(numbers) == list(range(1, 41))


def test_ticket_with_messages_and_audit_events_comes_back_in_one_query(table: Any) -> None:
    repo = TicketRepository(table)
    ticket = _new(repo)

    thread = repo.thread(ticket.number)

    assert thread.ticket.subject == ticket.subject
    assert [m.text for m in thread.messages] == ["it smokes"]
    assert [e.action for e in thread.events] == ["created"]
    assert thread.ticket.version == 1


def test_ticket_is_found_by_its_human_number(table: Any) -> None:
    repo = TicketRepository(table)
    _new(repo)
    second = _new(repo, subject="second")

    assert repo.get(second.number).subject == "second"
    with pytest.raises(NotFoundError):
        repo.get(999)


def test_ticket_is_found_by_any_message_id_it_received(table: Any) -> None:
    repo = TicketRepository(table)
    ticket = _new(repo)

    assert repo.find_by_message_id(f"<mail-{ticket.number}@example.org>") == ticket.number
    assert repo.find_by_message_id(f"mail-{ticket.number}@example.org") == ticket.number
    assert repo.find_by_message_id("<unknown@example.org>") is None


def test_second_delivery_of_the_same_message_id_is_refused_and_nothing_is_written(
    table: Any,
) -> None:
    repo = TicketRepository(table)
    ticket = _new(repo)
    again = Message(
        ticket_number=ticket.number,
        id="again",
        created_at=NOW + timedelta(minutes=1),
        direction=Direction.INBOUND,
        author="ada@example.org",
        text="it smokes",
        message_id=f"<mail-{ticket.number}@example.org>",
    )

    with pytest.raises(DuplicateDeliveryError):
        repo.save(ticket, ticket, [], [again])

    thread = repo.thread(ticket.number)
    assert len(thread.messages) == 1
    assert thread.ticket.version == 1


def test_two_writers_racing_on_one_ticket_one_wins_the_other_gets_a_conflict(
    table: Any,
) -> None:
    repo = TicketRepository(table)
    ticket = _new(repo)
    first, first_event = change_status(
        ticket, Status.PENDING, now=NOW + timedelta(minutes=1), actor="agent-a"
    )
    second, second_event = change_priority(
        ticket, Priority.URGENT, now=NOW + timedelta(minutes=1), actor="agent-b"
    )

    repo.save(ticket, first, [first_event])
    with pytest.raises(ConflictError):
        repo.save(ticket, second, [second_event])

    fresh = repo.get(ticket.number)
    retried, retried_event = change_priority(
        fresh, Priority.URGENT, now=NOW + timedelta(minutes=2), actor="agent-b"
    )
    repo.save(fresh, retried, [retried_event])
    final = repo.thread(ticket.number)
    assert final.ticket.status == Status.PENDING
    assert final.ticket.priority == Priority.URGENT
    assert final.ticket.version == 3
    assert sorted(e.action for e in final.events) == [
        "created",
        "priority_changed",
        "status_changed",
    ]


def test_concurrent_writers_from_threads_exactly_one_wins(table: Any) -> None:
    repo = TicketRepository(table)
    ticket = _new(repo)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write(actor: str) -> None:
        after, event = change_priority(ticket, Priority.HIGH, now=NOW, actor=actor)
        barrier.wait()
        try:
            repo.save(ticket, after, [event])
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    workers = [threading.Thread(target=write, args=(f"agent-{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "won"]
    assert repo.get(ticket.number).version == 2


def test_requester_sees_their_own_tickets_newest_first_with_a_cursor(table: Any) -> None:
    repo = TicketRepository(table)
    for hours in range(3):
        _new(repo, requester="Bob@Example.org", created_at=NOW + timedelta(hours=hours))
    _new(repo, requester="eve@example.org")

    first = repo.for_requester("bob@example.org", limit=2)
    second = repo.for_requester("bob@example.org", limit=2, cursor=first.cursor)

    assert [t.created_at.hour for t in first.tickets] == [11, 10]
    assert [t.created_at.hour for t in second.tickets] == [9]
    assert {t.requester for t in first.tickets + second.tickets} == {"bob@example.org"}


def test_team_queue_by_status_newest_first_and_most_urgent_first(table: Any) -> None:
    repo = TicketRepository(table)
    low = _new(repo, team="billing", priority=Priority.LOW, created_at=NOW + timedelta(hours=2))
    urgent = _new(repo, team="billing", priority=Priority.URGENT, created_at=NOW)
    normal = _new(
        repo, team="billing", priority=Priority.NORMAL, created_at=NOW + timedelta(hours=1)
    )
    _new(repo, team="tech", priority=Priority.URGENT)

    newest = repo.queue("billing", "open", order="newest")
    urgent_first = repo.queue("billing", "open", order="urgent")

    assert [t.number for t in newest.tickets] == [low.number, normal.number, urgent.number]
    assert [t.number for t in urgent_first.tickets] == [urgent.number, normal.number, low.number]
    assert repo.queue("billing", "pending").tickets == []


def test_sla_sweep_reads_only_due_tickets_from_the_sparse_index(table: Any) -> None:
    repo = TicketRepository(table)
    due_soon = _new(
        repo,
        sla=SlaState(resolution=SlaClock(due=NOW + timedelta(minutes=5))),
    )
    _new(repo, sla=SlaState(resolution=SlaClock(due=NOW + timedelta(hours=5))))
    _new(repo)  # no deadline: not in the index at all
    paused = _new(
        repo,
        status=Status.PENDING,
        sla=SlaState(resolution=SlaClock(due=NOW + timedelta(minutes=1))),
    )

    due = repo.due_before(NOW + timedelta(minutes=10))

    assert [t.number for t in due] == [due_soon.number]
    assert paused.number not in [t.number for t in due]
    indexed = table.scan(IndexName="GSI4")["Items"]
    assert len(indexed) == 2
