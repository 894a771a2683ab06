"""Grouping rules: merge only in the narrow case, incidents only on more than one signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.ai.grouping import Action, Candidate, Thresholds, decide, error_codes
from helpdesk.ai.index import Hit

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _hit(number: int, score: float, requester: str, minutes_ago: float, **extra) -> Hit:
    created = int((NOW - timedelta(minutes=minutes_ago)).timestamp())
    return Hit(
        str(number),
        score,
        {"number": number, "requester": requester, "created_at": created, **extra},
    )


def _candidate(text: str = "Checkout fails with error 503", **fields) -> Candidate:
    values = {"number": 99, "requester": "ada@example.org", "created_at": NOW, "text": text}
    values.update(fields)
    return Candidate(**values)


def test_same_requester_near_identical_and_recent_is_merged() -> None:
    decision = decide(_candidate(), [_hit(7, 0.97, "ada@example.org", 30)], Thresholds())

    assert (decision.action, decision.target) == (Action.MERGE, 7)


def test_same_requester_outside_the_window_is_only_listed_as_similar() -> None:
    decision = decide(_candidate(), [_hit(7, 0.99, "ada@example.org", 60 * 48)], Thresholds())

    assert decision.action == Action.NONE
    assert decision.similar == [{"number": 7, "score": 0.99}]


def test_same_requester_similar_but_not_near_identical_is_not_merged() -> None:
    decision = decide(_candidate(), [_hit(7, 0.9, "ada@example.org", 10)], Thresholds())

    assert decision.action == Action.NONE


def test_other_requester_with_similar_text_alone_is_not_an_incident() -> None:
    decision = decide(
        _candidate(text="It is broken"), [_hit(7, 0.9, "bob@x.org", 10)], Thresholds()
    )

    assert decision.action == Action.NONE


def test_other_requester_similar_text_and_same_error_code_is_an_incident() -> None:
    hit = _hit(7, 0.8, "bob@x.org", 10, codes="503")

    decision = decide(_candidate(), [hit], Thresholds())

    assert (decision.action, decision.target) == (Action.INCIDENT, 7)
    assert decision.signals == ("similar_text", "same_error_code")


def test_a_report_matching_a_child_joins_that_childs_incident() -> None:
    hit = _hit(7, 0.8, "bob@x.org", 10, category="checkout", incident_of=3)

    decision = decide(_candidate(category="checkout"), [hit], Thresholds())

    assert (decision.action, decision.target) == (Action.INCIDENT, 3)


def test_an_old_report_from_someone_else_does_not_start_an_incident() -> None:
    hit = _hit(7, 0.9, "bob@x.org", 60 * 5, codes="503")

    assert decide(_candidate(), [hit], Thresholds()).action == Action.NONE


def test_later_tickets_and_the_ticket_itself_are_never_targets() -> None:
    later = Hit(
        "8",
        0.99,
        {
            "number": 8,
            "requester": "ada@example.org",
            "created_at": int((NOW + timedelta(minutes=1)).timestamp()),
        },
    )
    itself = _hit(99, 1.0, "ada@example.org", 0)

    decision = decide(_candidate(), [itself, later], Thresholds())

    assert decision.action == Action.NONE and decision.similar == []


def test_error_codes_are_found_case_insensitively() -> None:
    assert error_codes("Error 0x80070005 and E1234, HTTP 503") == {"0x80070005", "e1234", "503"}
