"""Ticket transitions: legal moves return a changed copy and an audit event; illegal ones refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.domain.models import Priority, Status, StatusCategory, Ticket
from helpdesk.domain.transitions import (
    assign,
    change_priority,
    change_status,
    mark_duplicate,
    reopen,
    set_fields,
)
from helpdesk.exceptions import IllegalTransitionError, ValidationError

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 3, 19, 10, 0, tzinfo=UTC)


def _ticket(number: int = 1, status: Status = Status.OPEN) -> Ticket:
    return Ticket(
        number=number,
        subject="printer on fire",
        requester="Ada@Example.org",
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (Status.OPEN, StatusCategory.OPEN),
        (Status.PENDING, StatusCategory.PENDING),
        (Status.ON_HOLD, StatusCategory.PENDING),
        (Status.SOLVED, StatusCategory.CLOSED),
        (Status.CLOSED, StatusCategory.CLOSED),
    ],
)
def test_every_status_belongs_to_one_category(status: Status, category: StatusCategory) -> None:
    assert status.category == category


def test_solving_a_ticket_records_when_and_who_in_the_audit_event() -> None:
    solved, event = change_status(_ticket(), Status.SOLVED, now=LATER, actor="agent-a")

    assert solved.status == Status.SOLVED
    assert solved.solved_at == LATER
    assert solved.updated_at == LATER
    assert event.action == "status_changed"
    assert event.actor == "agent-a"
    assert event.changes["status"] == ["open", "solved"]


def test_a_solved_ticket_reopens_and_forgets_its_solved_time() -> None:
    solved, _ = change_status(_ticket(), Status.SOLVED, now=NOW, actor="a")

    reopened, event = reopen(solved, now=LATER, actor="ada@example.org")

    assert reopened.status == Status.OPEN
    assert reopened.solved_at is None
    assert event.changes["status"] == ["solved", "open"]


def test_a_closed_ticket_refuses_to_reopen_with_a_clear_error() -> None:
    with pytest.raises(IllegalTransitionError, match="a closed ticket cannot become open") as info:
        reopen(_ticket(status=Status.CLOSED), now=LATER, actor="a")

    assert info.value.field == "status"


def test_a_solved_ticket_cannot_go_to_pending() -> None:
    with pytest.raises(IllegalTransitionError, match="solved ticket cannot become pending"):
        change_status(_ticket(status=Status.SOLVED), Status.PENDING, now=LATER, actor="a")


def test_moving_to_the_same_status_is_refused() -> None:
    with pytest.raises(IllegalTransitionError, match="already open"):
        change_status(_ticket(), Status.OPEN, now=LATER, actor="a")


def test_priority_and_assignment_changes_leave_the_original_untouched() -> None:
    original = _ticket()

    urgent, event = change_priority(original, Priority.URGENT, now=LATER, actor="a")
    assigned, assign_event = assign(urgent, "agent-b", now=LATER, actor="a", team="billing")

    assert original.priority == Priority.NORMAL
    assert urgent.priority == Priority.URGENT
    assert event.changes == {"priority": ["normal", "urgent"]}
    assert (assigned.assignee, assigned.team) == ("agent-b", "billing")
    assert assign_event.action == "assigned"


def test_a_closed_ticket_cannot_change_priority() -> None:
    with pytest.raises(IllegalTransitionError):
        change_priority(_ticket(status=Status.CLOSED), Priority.HIGH, now=LATER, actor="a")


def test_setting_an_unknown_or_protected_field_names_it() -> None:
    with pytest.raises(ValidationError) as unknown:
        set_fields(_ticket(), now=LATER, actor="a", colour="red")
    with pytest.raises(ValidationError) as protected:
        set_fields(_ticket(), now=LATER, actor="a", number=7)

    assert unknown.value.field == "colour"
    assert protected.value.field == "number"


def test_merging_closes_the_duplicate_and_points_at_the_original() -> None:
    duplicate, event = mark_duplicate(_ticket(2), _ticket(1), now=LATER, actor="triage")

    assert duplicate.status == Status.CLOSED
    assert duplicate.duplicate_of == 1
    assert event.action == "merged"


def test_a_ticket_cannot_be_merged_into_itself() -> None:
    with pytest.raises(ValidationError, match="into itself"):
        mark_duplicate(_ticket(1), _ticket(1), now=LATER, actor="a")


def test_requester_addresses_are_compared_in_lower_case() -> None:
    assert _ticket().requester == "ada@example.org"
