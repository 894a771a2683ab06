"""Business-time arithmetic: the calendar's rules, and properties that hold for any instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from helpdesk.exceptions import CalendarError
from helpdesk.sla.calendar import Calendar, parse_wall_time

CALENDARS = [
    Calendar(
        id="berlin",
        timezone="Europe/Berlin",
        hours={d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="DE",
        holiday_subdivision="BY",
    ),
    Calendar(
        id="nyc-split",
        timezone="America/New_York",
        hours={"mon": [("08:00", "12:00"), ("13:00", "18:00")], "thu": [("01:30", "03:30")]},
    ),
    Calendar(
        id="nights",
        timezone="Europe/Berlin",
        hours={
            "fri": [("22:00", "06:00")],
            "sat": [("23:00", "02:30")],
            "sun": [("00:00", "24:00")],
        },
    ),
    Calendar.always_open("Australia/Sydney"),
]

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=150, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=instants,
    minutes=st.integers(min_value=0, max_value=60 * 24 * 30),
)
def test_adding_business_minutes_then_measuring_them_gives_them_back(
    calendar: Calendar, start: datetime, minutes: int
) -> None:
    working = calendar.working_time()

    due = working.add(start, minutes)

    assert due >= start
    assert working.between(start, due) == pytest.approx(minutes, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    start=instants,
    a=st.integers(0, 5000),
    b=st.integers(0, 5000),
)
def test_business_minutes_add_up_over_consecutive_stretches(
    calendar: Calendar, start: datetime, a: int, b: int
) -> None:
    working = calendar.working_time()
    middle = start + timedelta(minutes=a)
    end = middle + timedelta(minutes=b)

    whole = working.between(start, end)

    assert whole == pytest.approx(working.between(start, middle) + working.between(middle, end))
    assert whole <= a + b + 1e-9


def test_zero_minutes_from_outside_hours_is_the_next_working_minute() -> None:
    berlin = CALENDARS[0].working_time()

    # Saturday 2026-03-21 12:00Z -> Monday 09:00 CET = 08:00Z.
    assert berlin.add(datetime(2026, 3, 21, 12, tzinfo=UTC), 0) == datetime(
        2026, 3, 23, 8, tzinfo=UTC
    )


def test_a_bavarian_holiday_is_not_a_working_day() -> None:
    # Epiphany (6 January) is a holiday in Bavaria but not in Berlin's own state.
    berlin = CALENDARS[0].working_time()

    assert berlin.is_holiday(date(2026, 1, 6))
    assert berlin.day_intervals(date(2026, 1, 6)) == ()


def test_a_whole_day_is_23_hours_on_the_night_the_clocks_go_forward() -> None:
    sunday = Calendar(timezone="Europe/Berlin", hours={"sun": [("00:00", "24:00")]}).working_time()

    ((start, end),) = sunday.day_intervals(date(2026, 3, 29))

    assert (end - start) == timedelta(hours=23)


def test_wall_times_are_read_with_midnight_written_either_way() -> None:
    assert parse_wall_time("23:59", end=True) == 1440
    assert parse_wall_time("24:00", end=True) == 1440
    assert parse_wall_time("23:59", end=False) == 1439
    with pytest.raises(ValueError, match="only end"):
        parse_wall_time("24:00", end=False)


@pytest.mark.parametrize(
    "hours",
    [{"mon": [("09:00", "09:00")]}, {"mon": [("9:00", "17:00")]}, {"funday": [("09:00", "17:00")]}],
)
def test_a_malformed_interval_or_day_is_refused(hours: dict[str, list[tuple[str, str]]]) -> None:
    with pytest.raises(ValidationError):
        Calendar(hours=hours)  # type: ignore[arg-type]


def test_an_unknown_holiday_country_is_refused() -> None:
    with pytest.raises(ValidationError, match="no holidays known"):
        Calendar(hours={"mon": [("09:00", "17:00")]}, holiday_country="XX")


def test_a_calendar_without_hours_cannot_count() -> None:
    with pytest.raises(CalendarError):
        Calendar(hours={}).working_time()


def test_a_calendar_whose_only_day_is_always_a_holiday_gives_up_instead_of_looping() -> None:
    # Only Mondays have hours, and every Monday for six years is a holiday.
    mondays = [date(2026, 3, 16) + timedelta(weeks=n) for n in range(0, 52 * 6)]
    working = Calendar(hours={"mon": [("09:00", "10:00")]}, holidays=mondays).working_time()

    with pytest.raises(CalendarError, match="five years"):
        working.add(datetime(2026, 3, 16, tzinfo=UTC), 1)


@settings(max_examples=100, deadline=None)
@given(
    calendar=st.sampled_from(CALENDARS),
    created=instants,
    target=st.integers(min_value=1, max_value=5000),
    pause_start=st.integers(min_value=0, max_value=3000),
    pause_length=st.integers(min_value=1, max_value=3000),
)
def test_a_pause_uses_none_of_the_target(
    calendar: Calendar, created: datetime, target: int, pause_start: int, pause_length: int
) -> None:
    # GIVEN a ticket paused for a while after creation, then open again until its deadline
    from helpdesk.domain.models import Status
    from helpdesk.sla.clock import EventType, SlaEvent, compute
    from helpdesk.sla.policy import SlaPolicy, Targets

    paused = created + timedelta(minutes=pause_start)
    resumed = paused + timedelta(minutes=pause_length)
    events = [
        SlaEvent(at=created, type=EventType.CREATED),
        SlaEvent(at=paused, type=EventType.STATUS, status=Status.ON_HOLD),
        SlaEvent(at=resumed, type=EventType.STATUS, status=Status.OPEN),
    ]
    policy = SlaPolicy(calendar_id=calendar.id, targets=Targets(resolution=target))
    working = calendar.working_time()

    # WHEN the clock is read at its deadline
    due = compute(events, [policy], {calendar.id: calendar}, now=resumed).resolution.due
    assert due is not None
    at_due = compute(events, [policy], {calendar.id: calendar}, now=due)

    # THEN the business time it counted is the target, less nothing for the pause
    counted = working.between(created, min(paused, due)) + working.between(resumed, due)
    assert counted == pytest.approx(target, abs=1e-6)
    assert at_due.resolution.minutes_taken == pytest.approx(target, abs=1e-6)
    assert at_due.resolution.due == due
    assert not at_due.resolution.breached
