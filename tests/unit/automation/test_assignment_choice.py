"""The pure assignment choice under each team mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.automation.assignment import Candidate, away_too_long, choose
from helpdesk.domain.models import Agent, AssignmentMode, Team

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def _c(agent_id: str, load: int = 0, cap: int | None = None, *skills: str) -> Candidate:
    return Candidate(agent_id, frozenset(skills), load, cap)


def test_manual_mode_never_picks_anyone() -> None:
    assert choose(AssignmentMode.MANUAL, [_c("a")]) is None


def test_round_robin_takes_the_next_agent_after_the_last_one_and_wraps() -> None:
    agents = [_c("ann"), _c("bob"), _c("cid")]

    assert choose(AssignmentMode.ROUND_ROBIN, agents, last_assigned=None) == "ann"
    assert choose(AssignmentMode.ROUND_ROBIN, agents, last_assigned="ann") == "bob"
    assert choose(AssignmentMode.ROUND_ROBIN, agents, last_assigned="cid") == "ann"


def test_load_based_picks_the_fewest_open_tickets_and_respects_each_cap() -> None:
    agents = [_c("ann", 3), _c("bob", 1, 1), _c("cid", 2)]

    assert choose(AssignmentMode.LOAD_BASED, agents) == "cid"


def test_everyone_at_their_cap_means_nobody_is_picked() -> None:
    assert choose(AssignmentMode.LOAD_BASED, [_c("ann", 2, 2), _c("bob", 5, 5)]) is None


def test_skills_prefer_the_agent_who_speaks_the_tickets_language() -> None:
    agents = [_c("ann", 0, None, "language:en"), _c("bob", 4, None, "language:de")]

    chosen = choose(AssignmentMode.LOAD_BASED, agents, needs=frozenset({"language:de"}))

    assert chosen == "bob"


def test_a_skill_nobody_offers_does_not_block_assignment() -> None:
    agents = [_c("ann", 1), _c("bob", 0)]

    assert choose(AssignmentMode.LOAD_BASED, agents, needs=frozenset({"language:fi"})) == "bob"


def test_an_agent_away_longer_than_the_team_allows_is_flagged() -> None:
    team = Team(id="t", name="T", away_reassign_minutes=30)
    away = Agent(id="a", email="a@x.org", name="A", online=False, away_since=NOW)

    assert not away_too_long(away, team, now=NOW + timedelta(minutes=29))
    assert away_too_long(away, team, now=NOW + timedelta(minutes=30))
    assert not away_too_long(away.model_copy(update={"online": True}), team, now=NOW)
