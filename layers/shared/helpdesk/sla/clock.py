"""The SLA clock: a pure function of a ticket's history, its policies and calendars, and `now`.

Semantics, decided once here:

- A clock counts only while the ticket is `open`. Pending and on hold pause it; solved and
  closed stop it (reopening resumes it). Counting uses the target's measure: business minutes
  of the policy's calendar, or plain calendar minutes. A clock started outside working hours
  therefore starts at the next working minute.
- `first_response` starts when the ticket is created and is met by the first agent reply.
- `next_response` starts at a customer message that follows an agent reply (the first such
  message while none is waiting), and is met by the next agent reply. The latest cycle is the
  one reported; `next_response_breaches` counts every breached cycle.
- `resolution` starts when the ticket is created and is met when it is solved or closed (the
  start of its final solved/closed stretch); reopening clears it.
- The policy and the targets are those in force at `now` (after the last priority or field
  change), applied to the whole history: a priority change moves deadlines of running clocks,
  and a clock whose policy stopped matching has no target.
- `due` is the instant the target's minutes are used up. While the ticket is paused, it is
  where the deadline falls if the clock resumes at `now` (it moves later as the pause goes
  on). A clock stopped by solving or closing without being met has no deadline (`None`)
  unless its minutes ran out before. A met clock keeps the deadline it had when it was met.
- `warn_at` is the instant the policy's warning fraction of the target is used up; `warned_at`
  is that instant when it is at or before `now` and before the clock was met.
- `breached` is true when the clock was met after its deadline, or is unmet and its deadline
  is before `now`.
- `minutes_taken` counts the clock's measure from its start to its met time (or `now`),
  without paused time. `paused_minutes` is the wall-clock time spent pending or on hold up
  to `now` (how long the ticket was paused, working hours or not).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from helpdesk.domain.models import Channel, Priority, Status
from helpdesk.exceptions import ValidationError
from helpdesk.sla.calendar import ELAPSED, Calendar, TimeMeasure
from helpdesk.sla.policy import SlaPolicy, Target, TicketAttributes, matching_policy


class EventType(StrEnum):
    CREATED = "created"
    AGENT_REPLY = "agent_reply"
    CUSTOMER_MESSAGE = "customer_message"
    STATUS = "status"
    PRIORITY = "priority"
    FIELDS = "fields"


@dataclass(frozen=True)
class SlaEvent:
    """One step of a ticket's history that the clock cares about.

    `created` carries the first priority, status and fields; `status` a new status; `priority`
    a new priority; `fields` new values for category, team, organisation, tier or channel.
    """

    at: datetime
    type: EventType
    status: Status | None = None
    priority: Priority | None = None
    fields: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ClockResult:
    """One target's state as of `now`."""

    started_at: datetime | None = None
    due: datetime | None = None
    warn_at: datetime | None = None
    met_at: datetime | None = None
    breached: bool = False
    warned_at: datetime | None = None
    minutes_taken: float = 0.0
    target_minutes: int | None = None
    business_hours: bool = True
    business_minutes: float = 0.0
    calendar_minutes: float = 0.0


@dataclass(frozen=True)
class SlaResult:
    """Every clock of a ticket as of `now`, with the policy that set them."""

    policy_id: str | None
    status: Status
    attributes: TicketAttributes
    first_response: ClockResult
    next_response: ClockResult
    resolution: ClockResult
    paused_minutes: float
    paused_business_minutes: float
    next_response_breaches: int = 0
    replies: int = 0

    def clocks(self) -> dict[str, ClockResult]:
        """The three clocks by target name."""
        return {
            "first_response": self.first_response,
            "next_response": self.next_response,
            "resolution": self.resolution,
        }


# A stretch of time in which the clocks run: [start, end), end None while still running.
Segment = tuple[datetime, datetime | None]


@dataclass
class _History:
    created: datetime
    attributes: TicketAttributes
    statuses: list[tuple[datetime, Status]]
    agent_replies: list[datetime]
    customer_messages: list[datetime]
    changes: list[tuple[datetime, TicketAttributes]] = field(default_factory=list)

    def attributes_at(self, at: datetime | None) -> TicketAttributes:
        """The attributes in force at `at` (changes at that very instant included); None is
        the latest."""
        if at is None:
            return self.attributes
        current = self.changes[0][1]
        for changed_at, attributes in self.changes:
            if changed_at > at:
                break
            current = attributes
        return current


def compute(
    events: Iterable[SlaEvent],
    policies: Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar],
    *,
    now: datetime,
    default_calendar: Calendar | None = None,
) -> SlaResult:
    """Every SLA clock of a ticket as of `now`, from its history.

    Events after `now` are ignored; the rest are taken in time order (stable for ties). The
    policy's calendar is `calendars[policy.calendar_id]`, else `default_calendar`, else 24/7
    in UTC. Raises ValidationError when the history does not start with `created` or names a
    calendar that does not exist, and CalendarError when a calendar has no working time.
    """
    history = _read_history(events, now)
    measures: dict[str, TimeMeasure] = {}

    def context(at: datetime | None) -> tuple[SlaPolicy | None, TimeMeasure]:
        policy = matching_policy(policies, history.attributes_at(at))
        key = policy.id if policy else ""
        if key not in measures:
            calendar = _calendar_for(policy, calendars, default_calendar)
            measures[key] = calendar.working_time()
        return policy, measures[key]

    segments = _running_segments(history.statuses)
    resume_at = now if history.statuses[-1][1].pauses_sla else None

    def clock(name: str, started: datetime | None, met: datetime | None) -> ClockResult:
        # A met clock keeps the policy and targets it was met under; a running one follows
        # the ticket as it is now.
        attributes = history.attributes_at(met)
        policy, business = context(met)
        target = policy.targets_for(attributes.priority)[name] if policy else None
        uses_business = target.business_hours if target else (policy or _DEFAULT).business_hours
        result = _clock(
            started,
            met,
            target,
            business if uses_business else ELAPSED,
            segments,
            warn_fraction=policy.warn_at if policy else _DEFAULT.warn_at,
            now=now,
            resume_at=resume_at,
        )
        return replace(
            result,
            business_minutes=_taken(started, met, business, segments, now),
            calendar_minutes=_taken(started, met, ELAPSED, segments, now),
        )

    policy, business = context(None)
    policy_measure = business if (policy or _DEFAULT).business_hours else ELAPSED
    first_reply = next((at for at in history.agent_replies if at >= history.created), None)
    cycles = _next_response_cycles(history)
    latest = cycles[-1] if cycles else (None, None)
    resolved = _resolved_at(history.statuses)
    paused = _paused_segments(history.statuses, now)
    return SlaResult(
        policy_id=policy.id if policy else None,
        status=history.statuses[-1][1],
        attributes=history.attributes,
        first_response=clock("first_response", history.created, first_reply),
        next_response=clock("next_response", *latest),
        resolution=clock("resolution", history.created, resolved),
        paused_minutes=sum(ELAPSED.between(start, end) for start, end in paused),
        paused_business_minutes=sum(policy_measure.between(start, end) for start, end in paused),
        next_response_breaches=sum(
            clock("next_response", start, met).breached for start, met in cycles
        ),
        replies=len(history.agent_replies),
    )


_DEFAULT = SlaPolicy()


def _calendar_for(
    policy: SlaPolicy | None, calendars: Mapping[str, Calendar], default: Calendar | None
) -> Calendar:
    if policy is not None and policy.calendar_id is not None:
        if policy.calendar_id not in calendars:
            raise ValidationError(
                f"policy {policy.id} names calendar {policy.calendar_id}, which does not exist",
                field="calendar_id",
            )
        return calendars[policy.calendar_id]
    return default or Calendar.always_open()


def _read_history(events: Iterable[SlaEvent], now: datetime) -> _History:
    ordered = sorted((event for event in events if event.at <= now), key=lambda e: e.at)
    if not ordered or ordered[0].type != EventType.CREATED:
        raise ValidationError("the history must start with a created event", field="events")
    first = ordered[0]
    attributes = _apply_fields(TicketAttributes(priority=first.priority or Priority.NORMAL), first)
    history = _History(
        created=first.at,
        attributes=attributes,
        statuses=[(first.at, first.status or Status.OPEN)],
        agent_replies=[],
        customer_messages=[],
        changes=[(first.at, attributes)],
    )
    for event in ordered[1:]:
        if event.type == EventType.CREATED:
            raise ValidationError("a ticket is created only once", field="events")
        if event.type == EventType.AGENT_REPLY:
            history.agent_replies.append(event.at)
        elif event.type == EventType.CUSTOMER_MESSAGE:
            history.customer_messages.append(event.at)
        elif event.type == EventType.STATUS and event.status is not None:
            if event.status != history.statuses[-1][1]:
                history.statuses.append((event.at, event.status))
        elif event.type == EventType.PRIORITY and event.priority is not None:
            history.attributes = replace(history.attributes, priority=event.priority)
        changed = _apply_fields(history.attributes, event)
        if changed != history.changes[-1][1]:
            history.changes.append((event.at, changed))
        history.attributes = changed
    return history


def _apply_fields(attributes: TicketAttributes, event: SlaEvent) -> TicketAttributes:
    changes: dict[str, object] = {}
    for name, value in event.fields.items():
        if name == "channel":
            changes[name] = Channel(value) if value else None
        elif name in {"category", "team", "organisation", "tier"}:
            changes[name] = value
        else:
            raise ValidationError(f"policies do not match on {name}", field=name)
    return replace(attributes, **changes) if changes else attributes  # type: ignore[arg-type]


def _running_segments(statuses: list[tuple[datetime, Status]]) -> list[Segment]:
    segments: list[Segment] = []
    for index, (start, status) in enumerate(statuses):
        end = statuses[index + 1][0] if index + 1 < len(statuses) else None
        if status == Status.OPEN and (end is None or end > start):
            segments.append((start, end))
    return segments


def _paused_segments(
    statuses: list[tuple[datetime, Status]], now: datetime
) -> list[tuple[datetime, datetime]]:
    paused = []
    for index, (start, status) in enumerate(statuses):
        end = statuses[index + 1][0] if index + 1 < len(statuses) else now
        if status.pauses_sla:
            paused.append((start, end))
    return paused


def _next_response_cycles(history: _History) -> list[tuple[datetime, datetime | None]]:
    moments = [(at, "agent") for at in history.agent_replies]
    moments += [(at, "customer") for at in history.customer_messages]
    # At the same instant, the customer's message is taken first: a reply answers it.
    moments.sort(key=lambda moment: (moment[0], moment[1] == "agent"))
    cycles: list[tuple[datetime, datetime | None]] = []
    answered_once = False
    waiting_since: datetime | None = None
    for at, who in moments:
        if who == "agent":
            if waiting_since is not None:
                cycles.append((waiting_since, at))
                waiting_since = None
            answered_once = True
        elif answered_once and waiting_since is None:
            waiting_since = at
    if waiting_since is not None:
        cycles.append((waiting_since, None))
    return cycles


def _resolved_at(statuses: list[tuple[datetime, Status]]) -> datetime | None:
    resolved = None
    for at, status in statuses:
        stopped = status in (Status.SOLVED, Status.CLOSED)
        resolved = (resolved or at) if stopped else None
    return resolved


def _clock(
    started: datetime | None,
    met: datetime | None,
    target: Target | None,
    measure: TimeMeasure,
    segments: list[Segment],
    *,
    warn_fraction: float,
    now: datetime,
    resume_at: datetime | None = None,
) -> ClockResult:
    business_hours = bool(target.business_hours) if target else True
    if started is None:
        return ClockResult(business_hours=business_hours)
    taken = _taken(started, met, measure, segments, now)
    if target is None:
        return ClockResult(
            started_at=started, met_at=met, minutes_taken=taken, business_hours=business_hours
        )
    window = _window(started, met, segments)
    if met is None and resume_at is not None:
        window.append((max(resume_at, started), None))
    due = _reach(window, measure, target.minutes * 60)
    warn_at = _reach(window, measure, round(target.minutes * 60 * warn_fraction))
    breached = (met is not None and due is not None and met > due) or (
        met is None and due is not None and due < now
    )
    warned = warn_at is not None and warn_at <= now and (met is None or warn_at < met)
    return ClockResult(
        started_at=started,
        due=due,
        warn_at=warn_at,
        met_at=met,
        breached=breached,
        warned_at=warn_at if warned else None,
        minutes_taken=taken,
        target_minutes=target.minutes,
        business_hours=business_hours,
    )


def _taken(
    started: datetime | None,
    met: datetime | None,
    measure: TimeMeasure,
    segments: list[Segment],
    now: datetime,
) -> float:
    if started is None:
        return 0.0
    stop = min(met, now) if met is not None else now
    return sum(
        measure.between(max(start, started), min(end or stop, stop))
        for start, end in segments
        if (end is None or end > started) and start < stop
    )


def _window(started: datetime, met: datetime | None, segments: list[Segment]) -> list[Segment]:
    """The running segments from the clock's start; once met, running on from the met time."""
    window: list[Segment] = []
    for start, end in segments:
        if end is not None and end <= started:
            continue
        if met is not None and start >= met:
            break
        start = max(start, started)
        if met is not None and (end is None or end > met):
            end = met
        window.append((start, end))
    if met is not None:
        window.append((met, None))
    return window


def _reach(window: list[Segment], measure: TimeMeasure, seconds: float) -> datetime | None:
    """The instant the clock has counted `seconds` within `window`, or None if it never does."""
    remaining = seconds / 60
    for start, end in window:
        if end is None:
            return measure.add(start, remaining)
        available = measure.between(start, end)
        if available >= remaining:
            return measure.add(start, remaining)
        remaining -= available
    return None
