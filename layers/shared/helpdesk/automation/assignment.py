"""Assignment: who gets a new ticket under a team's mode, and who takes over from an away agent.

The choice is a pure function over plain data. The service around it makes concurrent choices
safe: round-robin advances a per-team cursor, and load-based raises the chosen agent's count,
each with a conditional write, so two tickets arriving at once never both read the same state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data.config import ConfigRepository
from helpdesk.domain.models import Agent, AssignmentMode, Team, Ticket
from helpdesk.exceptions import ConflictError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Candidate:
    """An agent as the chooser sees them: id, skills, open tickets now and their cap."""

    id: str
    skills: frozenset[str]
    open_tickets: int
    cap: int | None


def required_skills(ticket: Ticket) -> frozenset[str]:
    """The skills a ticket asks for: `language:<code>` and `category:<name>` where known."""
    skills = set()
    if ticket.triage and ticket.triage.language:
        skills.add(f"language:{ticket.triage.language}")
    if ticket.category:
        skills.add(f"category:{ticket.category}")
    return frozenset(skills)


def available(agents: Iterable[Agent], team_id: str) -> list[Agent]:
    """The team's agents who are online, by id."""
    return sorted(
        (agent for agent in agents if team_id in agent.teams and agent.online),
        key=lambda agent: agent.id,
    )


def choose(
    mode: AssignmentMode,
    candidates: list[Candidate],
    *,
    needs: frozenset[str] = frozenset(),
    last_assigned: str | None = None,
) -> str | None:
    """The agent id to assign, or None (manual mode, nobody available, everyone at their cap).

    With `needs`, agents who have every needed skill that anyone on the team offers are
    preferred; where nobody has them all, the choice falls back to everyone available.
    """
    if mode == AssignmentMode.MANUAL or not candidates:
        return None
    pool = [c for c in candidates if c.cap is None or c.open_tickets < c.cap]
    offered = frozenset().union(*(c.skills for c in pool)) if pool else frozenset()
    wanted = needs & offered
    if wanted:
        skilled = [c for c in pool if wanted <= c.skills]
        pool = skilled or pool
    if not pool:
        return None
    if mode == AssignmentMode.ROUND_ROBIN:
        ordered = sorted(pool, key=lambda c: c.id)
        after = [c for c in ordered if last_assigned is not None and c.id > last_assigned]
        return (after or ordered)[0].id
    return min(pool, key=lambda c: (c.open_tickets, c.id)).id


def away_too_long(agent: Agent, team: Team, *, now: datetime) -> bool:
    """True when the agent is away and has been for longer than the team allows."""
    if agent.online or team.away_reassign_minutes is None or agent.away_since is None:
        return False
    return now - agent.away_since >= timedelta(minutes=team.away_reassign_minutes)


class AssignmentService:
    """Assigns tickets under each team's mode. Takes a boto3 Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._config = ConfigRepository(table)

    def pick(self, ticket: Ticket, *, now: datetime) -> str | None:
        """Reserve an agent for `ticket` and return their id, or None when nobody is picked.

        The reservation (cursor advance or load increment) is a conditional write; a lost race
        re-reads and chooses again, so concurrent tickets spread out. Raises ConflictError
        after MAX_ATTEMPTS lost races.
        """
        if not ticket.team:
            return None
        team = self._team(ticket.team)
        if team is None or team.assignment == AssignmentMode.MANUAL:
            return None
        agents = available(self._config.list("agents", Agent), team.id)
        needs = required_skills(ticket) if team.match_skills else frozenset()
        for _attempt in range(MAX_ATTEMPTS):
            loads = self.loads([agent.id for agent in agents])
            cursor, cursor_version = self._cursor(team.id)
            candidates = [
                Candidate(a.id, frozenset(a.skills), loads.get(a.id, 0), a.max_open) for a in agents
            ]
            chosen = choose(team.assignment, candidates, needs=needs, last_assigned=cursor)
            if chosen is None:
                logger.debug("no agent available", extra={"team": team.id})
                return None
            cap = next(c.cap for c in candidates if c.id == chosen)
            if self._reserve(team.id, chosen, cursor_version, loads.get(chosen, 0), cap, now):
                return chosen
        raise ConflictError("assignment lost too many races; retry")

    def hold(self, agent_id: str) -> None:
        """One open ticket more for `agent_id` (assigned by hand, not through `pick`)."""
        self._table.update_item(
            Key={"PK": "LOAD", "SK": agent_id},
            UpdateExpression="ADD open_tickets :one",
            ExpressionAttributeValues={":one": 1},
        )

    def release(self, agent_id: str) -> None:
        """One open ticket fewer for `agent_id` (solved, closed, unassigned or reassigned)."""
        try:
            self._table.update_item(
                Key={"PK": "LOAD", "SK": agent_id},
                UpdateExpression="ADD open_tickets :minus",
                ConditionExpression="open_tickets > :zero",
                ExpressionAttributeValues={":minus": -1, ":zero": 0},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def loads(self, agent_ids: list[str]) -> dict[str, int]:
        """Open tickets per agent, as counted by reservations and releases."""
        if not agent_ids:
            return {}
        response = self._table.meta.client.batch_get_item(
            RequestItems={
                self._table.name: {
                    "Keys": [{"PK": "LOAD", "SK": agent_id} for agent_id in agent_ids],
                    "ConsistentRead": True,
                }
            }
        )
        return {
            item["SK"]: int(item.get("open_tickets", 0))
            for item in response["Responses"].get(self._table.name, [])
        }

    def reassign_from_away(
        self, tickets: Iterable[Ticket], agents: Mapping[str, Agent], *, now: datetime
    ) -> list[tuple[int, str | None]]:
        """For each ticket whose assignee has been away too long, a new assignee (or None).

        Returns (ticket number, new agent id or None) pairs; the caller saves the tickets.
        """
        moves: list[tuple[int, str | None]] = []
        for ticket in tickets:
            agent = agents.get(ticket.assignee or "")
            team = self._team(ticket.team) if ticket.team else None
            if agent is None or team is None or not away_too_long(agent, team, now=now):
                continue
            # The old assignee's load drops when the reassignment comes back on the stream.
            moves.append((ticket.number, self.pick(ticket, now=now)))
        return moves

    def _team(self, team_id: str) -> Team | None:
        found = [team for team in self._config.list("teams", Team) if team.id == team_id]
        return found[0] if found else None

    def _cursor(self, team_id: str) -> tuple[str | None, int]:
        item = self._table.get_item(
            Key={"PK": "ROUNDROBIN", "SK": team_id}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None, 0
        return item.get("last_agent"), int(item.get("version", 0))

    def _reserve(
        self,
        team_id: str,
        agent_id: str,
        cursor_version: int,
        seen_load: int,
        cap: int | None,
        now: datetime,
    ) -> bool:
        load_condition = (
            "attribute_not_exists(open_tickets) OR open_tickets = :seen"
            if seen_load == 0
            else "open_tickets = :seen"
        )
        cursor_condition = (
            "attribute_not_exists(version)" if cursor_version == 0 else "version = :version"
        )
        values: dict[str, Any] = {":seen": seen_load}
        cursor_values: dict[str, Any] = {
            ":agent": agent_id,
            ":next": cursor_version + 1,
            ":at": now.isoformat(),
        }
        if cursor_version:
            cursor_values[":version"] = cursor_version
        if cap is not None and seen_load >= cap:
            return False
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": {"PK": "ROUNDROBIN", "SK": team_id},
                            "UpdateExpression": "SET last_agent = :agent, version = :next, "
                            "updated_at = :at",
                            "ConditionExpression": cursor_condition,
                            "ExpressionAttributeValues": cursor_values,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table.name,
                            "Key": {"PK": "LOAD", "SK": agent_id},
                            "UpdateExpression": "ADD open_tickets :one",
                            "ConditionExpression": load_condition,
                            "ExpressionAttributeValues": {**values, ":one": 1},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                logger.debug("assignment race lost", extra={"team": team_id})
                return False
            raise
        return True
