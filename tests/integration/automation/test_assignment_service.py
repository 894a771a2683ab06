"""Assignment against the local endpoint: modes, caps, away agents, and concurrent arrivals."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.automation.assignment import AssignmentService
from helpdesk.data.config import ConfigRepository
from helpdesk.domain.models import Agent, AssignmentMode, Team, Ticket

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def _desk(table: Any, mode: AssignmentMode, *agents: Agent) -> AssignmentService:
    config = ConfigRepository(table)
    config.put("teams", "billing", Team(id="billing", name="Billing", assignment=mode))
    for agent in agents:
        config.put("agents", agent.id, agent)
    return AssignmentService(table)


def _agent(agent_id: str, **fields: Any) -> Agent:
    return Agent(
        id=agent_id, email=f"{agent_id}@desk.org", name=agent_id, teams=["billing"], **fields
    )


def _ticket(number: int) -> Ticket:
    return Ticket(
        number=number,
        subject="refund",
        requester="ada@example.org",
        team="billing",
        created_at=NOW,
        updated_at=NOW,
    )


def test_round_robin_hands_tickets_out_in_turn(table: Any) -> None:
    service = _desk(table, AssignmentMode.ROUND_ROBIN, _agent("ann"), _agent("bob"))

    picks = [service.pick(_ticket(n), now=NOW) for n in range(1, 5)]

    assert picks == ["ann", "bob", "ann", "bob"]


def test_two_tickets_arriving_at_once_do_not_both_go_to_the_same_agent(table: Any) -> None:
    service = _desk(table, AssignmentMode.ROUND_ROBIN, _agent("ann"), _agent("bob"))
    barrier = threading.Barrier(2)
    picks: list[str | None] = []

    def arrive(number: int) -> None:
        barrier.wait()
        picks.append(service.pick(_ticket(number), now=NOW))

    workers = [threading.Thread(target=arrive, args=(n,)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(p or "" for p in picks) == ["ann", "bob"]


def test_load_based_fills_the_least_loaded_agent_up_to_the_cap(table: Any) -> None:
    service = _desk(
        table, AssignmentMode.LOAD_BASED, _agent("ann", max_open=1), _agent("bob", max_open=2)
    )

    picks = [service.pick(_ticket(n), now=NOW) for n in range(1, 5)]

    assert picks == ["ann", "bob", "bob", None]
    service.release("ann")
    assert service.pick(_ticket(5), now=NOW) == "ann"


def test_away_agents_get_no_tickets(table: Any) -> None:
    service = _desk(
        table,
        AssignmentMode.ROUND_ROBIN,
        _agent("ann", online=False, away_since=NOW),
        _agent("bob"),
    )

    assert [service.pick(_ticket(n), now=NOW) for n in (1, 2)] == ["bob", "bob"]


def test_manual_team_leaves_tickets_unassigned(table: Any) -> None:
    service = _desk(table, AssignmentMode.MANUAL, _agent("ann"))

    assert service.pick(_ticket(1), now=NOW) is None


def test_tickets_of_an_agent_away_too_long_move_to_someone_available(table: Any) -> None:
    config = ConfigRepository(table)
    config.put(
        "teams",
        "billing",
        Team(
            id="billing",
            name="Billing",
            assignment=AssignmentMode.ROUND_ROBIN,
            away_reassign_minutes=60,
        ),
    )
    ann = _agent("ann", online=False, away_since=NOW - timedelta(hours=2))
    bob = _agent("bob")
    config.put("agents", "ann", ann)
    config.put("agents", "bob", bob)
    service = AssignmentService(table)
    held = _ticket(7).model_copy(update={"assignee": "ann"})

    moves = service.reassign_from_away([held], {"ann": ann, "bob": bob}, now=NOW)

    assert moves == [(7, "bob")]
