"""The what-if scenario behind `helpdesk sla explain`: its JSON format, validation and answer.

A scenario holds one calendar, one policy (or an ordered list of `policies`), a ticket's events
and `now`. Its answer gives, for each target, `due`, `met_at`, `breached`, `warned_at` and
`business_minutes_taken`, and the ticket's `paused_minutes`; the meaning of each is written
down in helpdesk.sla.clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator
from pydantic import ValidationError as PydanticValidationError

from helpdesk.domain.models import Channel, Priority, Status
from helpdesk.exceptions import ValidationError
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.clock import ClockResult, EventType, SlaEvent, SlaResult, compute
from helpdesk.sla.policy import SlaPolicy

_FIELD_NAMES = ("category", "team", "organisation", "tier", "channel")


class ScenarioEvent(BaseModel):
    """One event of the scenario's ticket."""

    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime
    type: Literal["created", "agent_reply", "customer_message", "status", "priority", "fields"]
    priority: Priority | None = None
    status: Status | None = None
    category: str | None = None
    team: str | None = None
    organisation: str | None = None
    tier: str | None = None
    channel: Channel | None = None

    @model_validator(mode="after")
    def _carries_its_value(self) -> ScenarioEvent:
        if self.type == "priority" and self.priority is None:
            raise ValueError("a priority event needs priority")
        if self.type == "status" and self.status is None:
            raise ValueError("a status event needs status")
        return self

    def to_event(self) -> SlaEvent:
        """The event as the clock reads it."""
        fields = {
            name: _plain(getattr(self, name))
            for name in _FIELD_NAMES
            if name in self.model_fields_set
        }
        return SlaEvent(
            at=self.at,
            type=EventType(self.type),
            status=self.status,
            priority=self.priority,
            fields=fields,
        )


class Scenario(BaseModel):
    """A calendar, a policy (or several, in order), a ticket's events and the moment to ask."""

    model_config = ConfigDict(extra="forbid")

    calendar: Calendar
    policy: SlaPolicy | None = None
    policies: list[SlaPolicy] | None = None
    events: list[ScenarioEvent]
    now: AwareDatetime

    @model_validator(mode="after")
    def _one_way_to_give_policies(self) -> Scenario:
        if (self.policy is None) == (self.policies is None):
            raise ValueError("give either policy or policies")
        if not self.events or self.events[0].type != "created":
            raise ValueError("events must start with a created event")
        return self

    def result(self) -> SlaResult:
        """The clocks as of `now`. Raises ValidationError or CalendarError (no working time)."""
        policies = self.policies if self.policies is not None else [self.policy]
        calendar = self.calendar
        return compute(
            [event.to_event() for event in self.events],
            [policy for policy in policies if policy is not None],
            {calendar.id: calendar},
            now=self.now,
            default_calendar=calendar,
        )


def load_scenario(text: str) -> Scenario:
    """Parse a scenario from JSON text; raises ValidationError naming the first bad field
    (`calendar.hours.mon[0]`, `events[2].status`, ...)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(f"not JSON: {error}", field="(document)") from error
    try:
        return Scenario.model_validate(raw)
    except PydanticValidationError as error:
        first = error.errors()[0]
        field = field_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ValidationError(f"{field}: {message}", field=field) from error


def explain(scenario: Scenario) -> dict[str, Any]:
    """The answer as plain JSON data: each target's clock and `paused_minutes`."""
    result = scenario.result()
    answer: dict[str, Any] = {name: _clock_json(clock) for name, clock in result.clocks().items()}
    answer["paused_minutes"] = _minutes(result.paused_minutes)
    return answer


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: ("hours", "mon", 0) -> "hours.mon[0]".

    Union branch names and validator names that pydantic adds to a location are left out.
    """
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not _is_branch_name(part):
            path += f".{part}" if path else part
    return path or "(document)"


def _is_branch_name(part: str) -> bool:
    return (
        any(mark in part for mark in "[]-,")
        or part[:1].isupper()
        or part in {"int", "str", "float", "bool", "none"}
    )


def _clock_json(clock: ClockResult) -> dict[str, Any]:
    return {
        "due": format_instant(clock.due),
        "met_at": format_instant(clock.met_at),
        "breached": clock.breached,
        "warned_at": format_instant(clock.warned_at),
        "business_minutes_taken": _minutes(clock.minutes_taken),
    }


def format_instant(value: datetime | None) -> str | None:
    """A UTC instant as `YYYY-MM-DDTHH:MM:SSZ` (with microseconds only when there are some)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _minutes(value: float) -> int | float:
    rounded = round(value, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def _plain(value: Any) -> str | None:
    return value.value if isinstance(value, Channel) else value
