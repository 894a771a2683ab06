"""`helpdesk sla explain`: the scenario format, its answer, and errors that name the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helpdesk_tools.cli import main

# The issue's example. Berlin is UTC+1 in March until the 29th; 2026-03-19 is a Thursday, and
# only Monday and Tuesday have hours, so every clock started on Thursday starts on Monday
# 2026-03-23 at 09:00 CET = 08:00Z.
EXAMPLE: dict[str, Any] = {
    "calendar": {
        "timezone": "Europe/Berlin",
        "hours": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]},
        "holidays": ["2026-12-24"],
        "holiday_country": "DE",
        "holiday_subdivision": "BY",
    },
    "policy": {
        "business_hours": True,
        "warn_at": 0.75,
        "targets": {
            "normal": {"first_response": 60, "next_response": 120, "resolution": 240},
            "urgent": {"first_response": 15, "resolution": 120},
        },
    },
    "events": [
        {"at": "2026-03-19T09:30:00Z", "type": "created", "priority": "normal"},
        {"at": "2026-03-19T10:00:00Z", "type": "agent_reply"},
        {"at": "2026-03-19T11:00:00Z", "type": "customer_message"},
        {"at": "2026-03-19T11:05:00Z", "type": "status", "status": "pending"},
        {"at": "2026-03-19T12:00:00Z", "type": "priority", "priority": "urgent"},
    ],
    "now": "2026-03-19T13:00:00Z",
}


def explain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: Any
) -> tuple[int, Any, str]:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario) if not isinstance(scenario, str) else scenario)
    code = main(["sla", "explain", str(path)])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def test_the_issue_example_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, answer, _ = explain(tmp_path, capsys, EXAMPLE)

    assert code == 0
    assert answer == {
        # Met by the agent reply on Thursday, before the clock even started (0 minutes). The
        # reply came before the priority change, so the normal target stands: Monday 08:00Z +
        # 60 = 09:00Z.
        "first_response": {
            "due": "2026-03-23T09:00:00Z",
            "met_at": "2026-03-19T10:00:00Z",
            "breached": False,
            "warned_at": None,
            "business_minutes_taken": 0,
        },
        # The customer's 11:00Z message starts a cycle, but the ticket is now urgent, and
        # urgent has no next-response target: no deadline.
        "next_response": {
            "due": None,
            "met_at": None,
            "breached": False,
            "warned_at": None,
            "business_minutes_taken": 0,
        },
        # Urgent resolution is 120 minutes. The ticket is pending, so the deadline is where it
        # falls if the clock resumes now: nothing was used on Thursday, so Monday 08:00Z +
        # 120 = 10:00Z.
        "resolution": {
            "due": "2026-03-23T10:00:00Z",
            "met_at": None,
            "breached": False,
            "warned_at": None,
            "business_minutes_taken": 0,
        },
        # Pending from 11:05Z to 13:00Z.
        "paused_minutes": 115,
    }


def test_a_breach_and_a_warning_are_explained_with_single_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Monday 2026-03-23, Berlin 09:00-17:00 CET (08:00-16:00Z), one set of targets for all
    # priorities. Created 08:00Z, on hold 08:10-08:40Z, now 09:00Z.
    scenario = copy.deepcopy(EXAMPLE)
    scenario["policy"]["targets"] = {"first_response": 30, "resolution": 240}
    scenario["events"] = [
        {"at": "2026-03-23T08:00:00Z", "type": "created", "priority": "low"},
        {"at": "2026-03-23T08:10:00Z", "type": "status", "status": "on_hold"},
        {"at": "2026-03-23T08:40:00Z", "type": "status", "status": "open"},
    ]
    scenario["now"] = "2026-03-23T09:00:00Z"

    code, answer, _ = explain(tmp_path, capsys, scenario)

    assert code == 0
    # First response (30): 10 minutes by 08:10Z, then 20 more from 08:40Z -> due 09:00Z, not
    # before now, so not breached; the warning at 22.5 minutes fell at 08:40Z + 12.5 =
    # 08:52:30Z. Resolution (240): 230 left at 08:40Z -> due 12:30Z; its warning at 180
    # minutes is at 08:40Z + 170 = 11:30Z, after now.
    assert answer["first_response"] == {
        "due": "2026-03-23T09:00:00Z",
        "met_at": None,
        "breached": False,
        "warned_at": "2026-03-23T08:52:30Z",
        "business_minutes_taken": 30,
    }
    assert answer["resolution"]["due"] == "2026-03-23T12:30:00Z"
    assert answer["resolution"]["warned_at"] is None
    assert answer["paused_minutes"] == 30


def test_an_unanswered_ticket_is_breached_after_its_deadline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Created Monday 08:00Z (09:00 CET), first response 60: due 09:00Z, warned 08:45Z; at
    # 09:30Z nobody answered.
    scenario = copy.deepcopy(EXAMPLE)
    scenario["events"] = [{"at": "2026-03-23T08:00:00Z", "type": "created"}]
    scenario["now"] = "2026-03-23T09:30:00Z"

    code, answer, _ = explain(tmp_path, capsys, scenario)

    assert code == 0
    assert answer["first_response"]["breached"] is True
    assert answer["first_response"]["warned_at"] == "2026-03-23T08:45:00Z"
    assert answer["first_response"]["business_minutes_taken"] == 90


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda s: s["calendar"]["hours"]["mon"].__setitem__(0, ["09:00", "25:00"]),
            "calendar.hours.mon[0]",
        ),
        (
            lambda s: s["calendar"]["hours"]["tue"].__setitem__(1, ["13:00"]),
            "calendar.hours.tue[1][1]",
        ),
        (lambda s: s["calendar"]["hours"].__setitem__("monday", []), "calendar.hours.monday"),
        (lambda s: s["calendar"].__setitem__("timezone", "Mars/Olympus"), "calendar.timezone"),
        (lambda s: s["calendar"].__setitem__("holidays", ["2026-02-30"]), "calendar.holidays[0]"),
        (
            lambda s: s["policy"]["targets"]["normal"].__setitem__("resolution", -5),
            "policy.targets.normal.resolution",
        ),
        (
            lambda s: s["policy"]["targets"].__setitem__("someday", {"resolution": 5}),
            "policy.targets.someday",
        ),
        (lambda s: s["policy"].__setitem__("warn_at", 1.5), "policy.warn_at"),
        (lambda s: s["events"][3].__setitem__("status", "waiting"), "events[3].status"),
        (lambda s: s["events"][1].__setitem__("at", "2026-03-19T10:00:00"), "events[1].at"),
        (lambda s: s["events"][4].pop("priority"), "events[4]"),
        (lambda s: s["events"][2].__setitem__("type", "phone_call"), "events[2].type"),
        (lambda s: s.pop("now"), "now"),
    ],
)
def test_a_malformed_scenario_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, field: str
) -> None:
    scenario = copy.deepcopy(EXAMPLE)
    change(scenario)

    code, _, err = explain(tmp_path, capsys, scenario)

    assert code != 0
    assert f"invalid scenario: {field}:" in err


def test_a_scenario_that_is_not_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = explain(tmp_path, capsys, "{not json")

    assert code != 0
    assert "not JSON" in err


def test_a_calendar_without_any_hours_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = copy.deepcopy(EXAMPLE)
    scenario["calendar"]["hours"] = {}

    code, _, err = explain(tmp_path, capsys, scenario)

    assert code != 0
    assert "no working hours" in err


def test_a_missing_scenario_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sla", "explain", str(tmp_path / "absent.json")])

    assert code == 2
    assert "cannot read" in capsys.readouterr().err
