"""Placeholders in canned responses and macros."""

from __future__ import annotations

from datetime import UTC, datetime

from helpdesk.domain.models import Ticket
from helpdesk.portal.services.placeholders import render

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _ticket(**fields: object) -> Ticket:
    return Ticket(
        number=42,
        subject="Printer",
        requester="carol@x.example",
        created_at=NOW,
        updated_at=NOW,
        **fields,  # type: ignore[arg-type]
    )


def test_known_placeholders_are_filled_and_unknown_ones_kept() -> None:
    text = render(
        "Hi {{ requester.name }}, #{{ticket.number}} - {{agent.name}} {{nope.nothing}}",
        _ticket(requester_name="Carol"),
        agent_name="Bob",
        agent_email="bob@desk.example",
    )

    assert text == "Hi Carol, #42 - Bob {{nope.nothing}}"


def test_a_requester_without_a_name_is_greeted_by_the_address_local_part() -> None:
    text = render("Hi {{requester.name}}", _ticket(), agent_name="Bob", agent_email="b@x")

    assert text == "Hi carol"
