"""Table-driven deadlines: each expected instant is worked out by hand in the case's comment.

Reminders used below: Berlin is UTC+1 (CET) until Sunday 2026-03-29 02:00, then UTC+2 (CEST)
until Sunday 2026-10-25 03:00. New York is UTC-4 (EDT) until Sunday 2026-11-01 02:00, then UTC-5
(EST). 2026-03-16 is a Monday; 2026-05-01 (a Friday) is a German public holiday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from helpdesk.domain.models import Priority, Status
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.clock import EventType, SlaEvent, compute
from helpdesk.sla.policy import Conditions, SlaPolicy, Targets

WEEKDAYS_9_TO_5 = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = Calendar(id="berlin", timezone="Europe/Berlin", hours=WEEKDAYS_9_TO_5)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def created(when: str, priority: Priority = Priority.NORMAL) -> SlaEvent:
    return SlaEvent(at=at(when), type=EventType.CREATED, priority=priority)


def status(when: str, value: Status) -> SlaEvent:
    return SlaEvent(at=at(when), type=EventType.STATUS, status=value)


def reply(when: str) -> SlaEvent:
    return SlaEvent(at=at(when), type=EventType.AGENT_REPLY)


def customer(when: str) -> SlaEvent:
    return SlaEvent(at=at(when), type=EventType.CUSTOMER_MESSAGE)


def priority(when: str, value: Priority) -> SlaEvent:
    return SlaEvent(at=at(when), type=EventType.PRIORITY, priority=value)


def policy(calendar: Calendar | None = None, **targets: int) -> SlaPolicy:
    return SlaPolicy(
        id="standard",
        calendar_id=calendar.id if calendar else None,
        business_hours=calendar is not None,
        targets=Targets(**targets),
    )


@dataclass
class Case:
    name: str
    calendar: Calendar | None
    policies: list[SlaPolicy]
    events: list[SlaEvent]
    now: str
    expected: dict[str, dict[str, object]]
    expected_policy: str | None = "standard"
    expected_paused: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


CASES = [
    # Created Tuesday 18:30Z = 19:30 CET, after hours. The clock starts Wednesday 09:00 CET
    # = 08:00Z; 60 minutes later is 09:00Z.
    Case(
        "created outside hours starts at the next working minute",
        BERLIN,
        [policy(BERLIN, first_response=60)],
        [created("2026-03-17T18:30:00Z")],
        now="2026-03-17T19:00:00Z",
        expected={"first_response": {"due": "2026-03-18T09:00:00Z", "breached": False}},
    ),
    # Friday 2026-05-01 is Labour Day in Germany. Created 08:00Z (10:00 CEST) that day: the
    # clock starts Monday 2026-05-04 09:00 CEST = 07:00Z, and 60 minutes later is 08:00Z.
    Case(
        "created on a holiday starts on the next working day",
        BERLIN.model_copy(update={"holiday_country": "DE"}),
        [policy(BERLIN, first_response=60)],
        [created("2026-05-01T08:00:00Z")],
        now="2026-05-01T09:00:00Z",
        expected={"first_response": {"due": "2026-05-04T08:00:00Z"}},
    ),
    # The same, with the admin removing Labour Day: 10:00 CEST + 60 minutes = 11:00 CEST
    # = 09:00Z the same Friday.
    Case(
        "an admin-removed holiday is a working day",
        BERLIN.model_copy(
            update={
                "holiday_country": "DE",
                "removed_holidays": [at("2026-05-01T00:00:00Z").date()],
            }
        ),
        [policy(BERLIN, first_response=60)],
        [created("2026-05-01T08:00:00Z")],
        now="2026-05-01T08:30:00Z",
        expected={"first_response": {"due": "2026-05-01T09:00:00Z"}},
    ),
    # An admin-added holiday on Wednesday 2026-03-18: created Tuesday 15:30Z (16:30 CET) with
    # 120 minutes: 30 on Tuesday until 17:00 CET, Wednesday is off, then 90 from Thursday
    # 09:00 CET = 08:00Z, so 09:30Z on Thursday 2026-03-19.
    Case(
        "an admin-added holiday is skipped",
        BERLIN.model_copy(update={"holidays": [at("2026-03-18T12:00:00Z").date()]}),
        [policy(BERLIN, resolution=120)],
        [created("2026-03-17T15:30:00Z")],
        now="2026-03-17T16:00:00Z",
        expected={"resolution": {"due": "2026-03-19T09:30:00Z"}},
    ),
    # Created Friday 2026-03-20 15:00Z = 16:00 CET; 240 minutes: 60 on Friday until 17:00,
    # the weekend is closed, 180 from Monday 09:00 CET -> 12:00 CET = 11:00Z.
    Case(
        "a deadline runs across a weekend",
        BERLIN,
        [policy(BERLIN, resolution=240)],
        [created("2026-03-20T15:00:00Z")],
        now="2026-03-20T16:00:00Z",
        expected={"resolution": {"due": "2026-03-23T11:00:00Z", "business_minutes_taken": 60}},
    ),
    # Created Wednesday 08:00Z (09:00 CET); pending at 09:00Z after 60 minutes; open again at
    # 11:00Z; 180 of 240 minutes remain: 11:00Z + 180 = 14:00Z. At now = 12:00Z the clock has
    # taken 60 + 60 = 120 minutes and was paused for 120.
    Case(
        "a pause in the middle moves the deadline by its length",
        BERLIN,
        [policy(BERLIN, resolution=240)],
        [
            created("2026-03-18T08:00:00Z"),
            status("2026-03-18T09:00:00Z", Status.PENDING),
            status("2026-03-18T11:00:00Z", Status.OPEN),
        ],
        now="2026-03-18T12:00:00Z",
        expected={"resolution": {"due": "2026-03-18T14:00:00Z", "business_minutes_taken": 120}},
        expected_paused=120,
    ),
    # A 24/7 calendar: created Saturday 22:00Z, 240 minutes later is Sunday 02:00Z.
    Case(
        "a 24/7 calendar counts every minute, weekends too",
        Calendar.always_open(),
        [policy(Calendar.always_open(), resolution=240)],
        [created("2026-03-21T22:00:00Z")],
        now="2026-03-21T23:00:00Z",
        expected={"resolution": {"due": "2026-03-22T02:00:00Z"}},
    ),
    # Weekdays 20:00-23:59 UTC, where 23:59 means midnight. Created Monday 23:30Z with 60
    # minutes: 30 until midnight, then 30 from Tuesday 20:00Z -> 20:30Z (not 20:31Z).
    Case(
        "a day ending at 23:59 runs to midnight",
        Calendar(
            id="evenings",
            hours={d: [("20:00", "23:59")] for d in ("mon", "tue", "wed", "thu", "fri")},
        ),
        [policy(Calendar(id="evenings", hours={"mon": [("20:00", "23:59")]}), first_response=60)],
        [created("2026-03-16T23:30:00Z")],
        now="2026-03-16T23:45:00Z",
        expected={"first_response": {"due": "2026-03-17T20:30:00Z"}},
    ),
    # Only Wednesdays 10:00-14:00 UTC. Created Thursday 2026-03-19 12:00Z with 300 minutes:
    # Wednesday 03-25 gives 240, then 60 from Wednesday 04-01 10:00Z -> 11:00Z.
    Case(
        "a calendar with a single working day a week",
        Calendar(id="wednesdays", hours={"wed": [("10:00", "14:00")]}),
        [policy(Calendar(id="wednesdays", hours={"wed": [("10:00", "14:00")]}), resolution=300)],
        [created("2026-03-19T12:00:00Z")],
        now="2026-03-19T12:30:00Z",
        expected={"resolution": {"due": "2026-04-01T11:00:00Z"}},
    ),
    # Tuesday split shifts 09:00-12:00 and 13:00-17:00 CET. Created 09:30Z (10:30 CET) with
    # 120 minutes: 90 until 12:00, lunch is skipped, 30 from 13:00 -> 13:30 CET = 12:30Z.
    Case(
        "split shifts skip the gap between them",
        Calendar(
            id="split",
            timezone="Europe/Berlin",
            hours={"tue": [("09:00", "12:00"), ("13:00", "17:00")]},
        ),
        [policy(Calendar(id="split", hours={"tue": [("09:00", "12:00")]}), first_response=120)],
        [created("2026-03-17T09:30:00Z")],
        now="2026-03-17T10:00:00Z",
        expected={"first_response": {"due": "2026-03-17T12:30:00Z"}},
    ),
    # Weeknights 22:00-06:00 UTC. Created Saturday 03:00Z, inside Friday's night shift: 180
    # minutes until 06:00Z, then nothing until Monday's shift at 22:00Z: 60 more -> 23:00Z.
    Case(
        "an overnight shift runs into the next day",
        Calendar(
            id="nights",
            hours={d: [("22:00", "06:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        ),
        [policy(Calendar(id="nights", hours={"mon": [("22:00", "06:00")]}), resolution=240)],
        [created("2026-03-21T03:00:00Z")],
        now="2026-03-21T04:00:00Z",
        expected={"resolution": {"due": "2026-03-23T23:00:00Z", "business_minutes_taken": 60}},
    ),
    # Berlin springs forward on Sunday 2026-03-29. Created Friday 03-27 15:00Z (16:00 CET)
    # with 120 minutes: 60 on Friday, then Monday 09:00 CEST = 07:00Z + 60 -> 08:00Z.
    Case(
        "a deadline across the spring daylight-saving change in Berlin",
        BERLIN,
        [policy(BERLIN, resolution=120)],
        [created("2026-03-27T15:00:00Z")],
        now="2026-03-27T15:30:00Z",
        expected={"resolution": {"due": "2026-03-30T08:00:00Z"}},
    ),
    # New York falls back on Sunday 2026-11-01. Created Friday 10-30 20:00Z (16:00 EDT) with
    # 120 minutes: 60 on Friday, then Monday 09:00 EST = 14:00Z + 60 -> 15:00Z.
    Case(
        "a deadline across the autumn daylight-saving change in New York",
        Calendar(id="nyc", timezone="America/New_York", hours=WEEKDAYS_9_TO_5),
        [policy(Calendar(id="nyc", hours={"mon": [("09:00", "17:00")]}), first_response=120)],
        [created("2026-10-30T20:00:00Z")],
        now="2026-10-30T20:30:00Z",
        expected={"first_response": {"due": "2026-11-02T15:00:00Z"}},
    ),
    # A Saturday night shift 22:00-06:00 Berlin over the spring change: it runs from 21:00Z
    # (22:00 CET) to 04:00Z (06:00 CEST), seven real hours. 480 minutes from 21:00Z use those
    # 420, then the next Saturday's shift starts 2026-04-04 22:00 CEST = 20:00Z: +60 -> 21:00Z.
    Case(
        "an overnight shift on the night the clocks go forward is an hour shorter",
        Calendar(id="sat-night", timezone="Europe/Berlin", hours={"sat": [("22:00", "06:00")]}),
        [policy(Calendar(id="sat-night", hours={"sat": [("22:00", "06:00")]}), resolution=480)],
        [created("2026-03-28T21:00:00Z")],
        now="2026-03-29T05:00:00Z",
        expected={"resolution": {"due": "2026-04-04T21:00:00Z", "business_minutes_taken": 420}},
    ),
    # Two policies: "urgent" (30 calendar minutes, urgent tickets only), then "standard"
    # (240 business minutes, Berlin). Created urgent Wednesday 08:00Z (09:00 CET); downgraded
    # to normal at 08:10Z. "urgent" stops matching, so "standard" applies from the start:
    # 09:00 CET + 240 = 13:00 CET = 12:00Z, not 08:30Z.
    Case(
        "a policy that stops matching after a priority change gives way to the next",
        BERLIN,
        [
            SlaPolicy(
                id="urgent",
                position=0,
                conditions=Conditions(priorities=[Priority.URGENT]),
                business_hours=False,
                targets=Targets(first_response=30),
            ),
            SlaPolicy(
                id="standard", position=1, calendar_id="berlin", targets=Targets(first_response=240)
            ),
        ],
        [
            created("2026-03-18T08:00:00Z", Priority.URGENT),
            priority("2026-03-18T08:10:00Z", Priority.NORMAL),
        ],
        now="2026-03-18T08:40:00Z",
        expected={"first_response": {"due": "2026-03-18T12:00:00Z", "breached": False}},
    ),
    # The same "urgent" policy alone: after the downgrade nothing matches, so no deadline.
    Case(
        "a ticket that no policy matches after a priority change has no deadline",
        None,
        [
            SlaPolicy(
                id="urgent",
                conditions=Conditions(priorities=[Priority.URGENT]),
                business_hours=False,
                targets=Targets(first_response=30),
            )
        ],
        [
            created("2026-03-18T08:00:00Z", Priority.URGENT),
            priority("2026-03-18T08:10:00Z", Priority.NORMAL),
        ],
        now="2026-03-18T08:40:00Z",
        expected={"first_response": {"due": None, "breached": False}},
        expected_policy=None,
    ),
    # Created Wednesday 08:00Z (09:00 CET) with 60 minutes, warning at 75%: warned at 08:45Z,
    # due 09:00Z; at 09:30Z without a reply it is breached.
    Case(
        "an unanswered ticket warns at 75% and breaches after its deadline",
        BERLIN,
        [policy(BERLIN, first_response=60)],
        [created("2026-03-18T08:00:00Z")],
        now="2026-03-18T09:30:00Z",
        expected={
            "first_response": {
                "due": "2026-03-18T09:00:00Z",
                "warned_at": "2026-03-18T08:45:00Z",
                "breached": True,
                "met_at": None,
            }
        },
    ),
    # Agent reply 08:30Z meets first response (30 minutes taken). The customer writes at
    # 09:00Z and again 09:10Z: one next-response cycle from 09:00Z, due 10:00Z, warned at
    # 09:45Z, met by the 10:30Z reply, so breached.
    Case(
        "next response starts at the first unanswered customer message",
        BERLIN,
        [policy(BERLIN, first_response=60, next_response=60)],
        [
            created("2026-03-18T08:00:00Z"),
            reply("2026-03-18T08:30:00Z"),
            customer("2026-03-18T09:00:00Z"),
            customer("2026-03-18T09:10:00Z"),
            reply("2026-03-18T10:30:00Z"),
        ],
        now="2026-03-18T11:00:00Z",
        expected={
            "first_response": {
                "met_at": "2026-03-18T08:30:00Z",
                "breached": False,
                "warned_at": None,
                "business_minutes_taken": 30,
            },
            "next_response": {
                "due": "2026-03-18T10:00:00Z",
                "met_at": "2026-03-18T10:30:00Z",
                "warned_at": "2026-03-18T09:45:00Z",
                "breached": True,
                "business_minutes_taken": 90,
            },
        },
    ),
    # Solved Wednesday 10:00Z (120 minutes in), reopened 12:00Z: resolution resumes with 120
    # of 240 left, from 12:00Z -> 14:00Z; the solved stretch does not count.
    Case(
        "reopening a solved ticket resumes its resolution clock",
        BERLIN,
        [policy(BERLIN, resolution=240)],
        [
            created("2026-03-18T08:00:00Z"),
            status("2026-03-18T10:00:00Z", Status.SOLVED),
            status("2026-03-18T12:00:00Z", Status.OPEN),
        ],
        now="2026-03-18T12:30:00Z",
        expected={"resolution": {"due": "2026-03-18T14:00:00Z", "met_at": None}},
    ),
]


def _clock_view(clock: object) -> dict[str, object]:
    from helpdesk.sla.scenario import format_instant

    return {
        "due": format_instant(clock.due),  # type: ignore[attr-defined]
        "met_at": format_instant(clock.met_at),  # type: ignore[attr-defined]
        "warned_at": format_instant(clock.warned_at),  # type: ignore[attr-defined]
        "breached": clock.breached,  # type: ignore[attr-defined]
        "business_minutes_taken": clock.minutes_taken,  # type: ignore[attr-defined]
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_deadline(case: Case) -> None:
    calendars = {case.calendar.id: case.calendar} if case.calendar else {}
    # The policies above name their calendar by id; the case's calendar is the real one.
    result = compute(case.events, case.policies, calendars, now=at(case.now))

    assert result.policy_id == case.expected_policy
    for target, expected in case.expected.items():
        view = _clock_view(result.clocks()[target])
        assert {key: view[key] for key in expected} == expected, target
    if case.expected_paused is not None:
        assert result.paused_minutes == case.expected_paused
