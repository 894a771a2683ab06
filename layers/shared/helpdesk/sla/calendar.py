"""Business calendars and business-time arithmetic, in a named time zone, without a clock.

A calendar lists half-open working intervals per weekday in local wall time. An interval whose
end is not after its start is an overnight shift that ends on the next day; `23:59` and `24:00`
both mean midnight. A shift belongs to the day it starts on: a holiday removes the shifts that
start on it, and an overnight shift that started the evening before still runs into it.

Arithmetic walks day by day over the concrete UTC intervals of each local day, so that a
daylight-saving change is handled by the zone itself: a 09:00-17:00 day is always eight real
hours, and a 00:00-24:00 day is 23 hours on the day the clocks go forward. A wall time that
does not exist (inside the spring-forward gap) is read with the offset before the change, which
lands it just after the gap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from helpdesk.exceptions import CalendarError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAY = 24 * 60
# A calendar with working time must show some within this many days, or it is refused.
SEARCH_LIMIT_DAYS = 366 * 5


def parse_wall_time(text: str, *, end: bool) -> int:
    """Minutes after midnight for an `HH:MM` wall time; `24:00` (an end only) is 1440, and an
    end of `23:59` means midnight too. Raises ValueError naming the problem."""
    parts = text.split(":")
    if len(parts) != 2 or not all(part.isdigit() and len(part) == 2 for part in parts):
        raise ValueError(f"{text!r} is not a time of the form HH:MM")
    hours, minutes = int(parts[0]), int(parts[1])
    if (hours, minutes) == (24, 0):
        if not end:
            raise ValueError("24:00 can only end an interval")
        return DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text!r} is not a time of day")
    value = hours * 60 + minutes
    return DAY if end and value == DAY - 1 else value


def _check_interval(value: tuple[str, str]) -> tuple[str, str]:
    start = parse_wall_time(value[0], end=False)
    end = parse_wall_time(value[1], end=True)
    if start == end:
        raise ValueError("an interval cannot be empty (use 00:00-24:00 for a whole day)")
    return value


Interval = Annotated[tuple[str, str], AfterValidator(_check_interval)]


class Calendar(BaseModel):
    """Working hours in a named zone, with holidays by country and region plus admin changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = "default"
    name: str = ""
    timezone: str = "UTC"
    hours: dict[Weekday, list[Interval]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    removed_holidays: list[date] = Field(default_factory=list)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _known_holiday_region(self) -> Calendar:
        if self.holiday_subdivision and not self.holiday_country:
            raise ValueError("holiday_subdivision needs holiday_country")
        if self.holiday_country:
            try:
                _country_table(self.holiday_country, self.holiday_subdivision, 2026)
            except NotImplementedError as error:
                raise ValueError(
                    f"no holidays known for {self.holiday_country!r}"
                    f" {self.holiday_subdivision or ''}".rstrip()
                ) from error
        return self

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> Calendar:
        """A 24/7 calendar without holidays."""
        whole_day = [("00:00", "24:00")]
        return cls(id="24x7", timezone=timezone, hours=dict.fromkeys(WEEKDAYS, whole_day))

    def working_time(self) -> WorkingTime:
        """The calendar compiled for arithmetic (cached per calendar value).

        Raises CalendarError when no weekday has working hours.
        """
        return _compile(self.model_dump_json())


class TimeMeasure(Protocol):
    """How a clock counts time: business minutes of a calendar, or plain elapsed minutes."""

    def add(self, start: datetime, minutes: float) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> float: ...


class ElapsedTime:
    """Calendar minutes: every minute counts, around the clock."""

    def add(self, start: datetime, minutes: float) -> datetime:
        """`start` plus `minutes` of real time."""
        return _utc(start) + timedelta(minutes=minutes)

    def between(self, start: datetime, end: datetime) -> float:
        """Real minutes from `start` to `end`, 0 when `end` is not after `start`."""
        return max(0.0, (_utc(end) - _utc(start)).total_seconds() / 60)


ELAPSED = ElapsedTime()


class WorkingTime:
    """Business-time arithmetic over one calendar; every instant in and out is UTC-aware."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.zone = ZoneInfo(calendar.timezone)
        self._weekly = [_merge(_day_minutes(calendar, day)) for day in WEEKDAYS]
        self._added = frozenset(calendar.holidays)
        self._removed = frozenset(calendar.removed_holidays)
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        if not any(self._weekly):
            raise CalendarError("the calendar has no working hours on any day")

    def is_holiday(self, day: date) -> bool:
        """True when `day` (a local date) is an added holiday or a country holiday not removed."""
        if day in self._added:
            return True
        if day in self._removed or not self.calendar.holiday_country:
            return False
        table = _country_table(
            self.calendar.holiday_country, self.calendar.holiday_subdivision, day.year
        )
        return day in table

    def day_intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC working intervals of the shifts that start on local date `day`."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        intervals: tuple[tuple[datetime, datetime], ...] = ()
        if not self.is_holiday(day):
            intervals = tuple(
                (self._instant(day, start), self._instant(day, end))
                for start, end in self._weekly[day.weekday()]
            )
        self._days[day] = intervals
        return intervals

    def is_working(self, instant: datetime) -> bool:
        """True when `instant` falls inside a working interval."""
        instant = _utc(instant)
        for start, end in self._intervals_from(instant):
            if start > instant:
                return False
            if start <= instant < end:
                return True
        return False

    def next_working(self, instant: datetime) -> datetime:
        """`instant` if it is working time, or the start of the next working interval."""
        return self.add(instant, 0)

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant when `minutes` business minutes have passed since `start`.

        Zero minutes gives the next working instant. Raises CalendarError when the calendar has
        no working time left within five years.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        start = _utc(start)
        remaining = timedelta(minutes=minutes)
        cursor = start
        for begin, end in self._intervals_from(start):
            begin = max(begin, cursor)
            if end <= begin:
                continue
            span = end - begin
            if remaining <= span:
                return begin + remaining
            remaining -= span
            cursor = end
        raise CalendarError("no working time within five years of the start")

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes in [start, end); 0 when `end` is not after `start`."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        total = timedelta()
        cursor = start
        for begin, finish in self._intervals_from(start, until=end):
            if begin >= end:
                break
            begin = max(begin, cursor)
            finish = min(finish, end)
            if finish > begin:
                total += finish - begin
                cursor = finish
        return total.total_seconds() / 60

    def _intervals_from(
        self, instant: datetime, *, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        # The day before too: its overnight shift may still be running at `instant`.
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        last = day + timedelta(days=SEARCH_LIMIT_DAYS)
        if until is not None:
            last = min(last, until.astimezone(self.zone).date())
        while day <= last:
            yield from self.day_intervals(day)
            day += timedelta(days=1)

    def _instant(self, day: date, minutes: int) -> datetime:
        day = day + timedelta(days=minutes // DAY)
        minutes %= DAY
        wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone)
        return wall.astimezone(UTC)


def _day_minutes(calendar: Calendar, day: str) -> list[tuple[int, int]]:
    spans = []
    for start_text, end_text in calendar.hours.get(day, []):  # type: ignore[call-overload]
        start = parse_wall_time(start_text, end=False)
        end = parse_wall_time(end_text, end=True)
        if end <= start:
            end += DAY
        spans.append((start, end))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are not instants; pass an aware datetime")
    return instant.astimezone(UTC)


@lru_cache(maxsize=64)
def _compile(calendar_json: str) -> WorkingTime:
    return WorkingTime(Calendar.model_validate_json(calendar_json))


@lru_cache(maxsize=256)
def _country_table(country: str, subdivision: str | None, year: int) -> Any:
    # Imported on first use: the tables cost a noticeable part of a cold start.
    import holidays as holiday_tables

    return holiday_tables.country_holidays(country, subdiv=subdivision, years=year)
