"""Grouping a new ticket with earlier ones: merge, incident, or just "similar tickets".

Similarity suggests; it does not decide. On SeaMonkey's bug reports the best match was the
true duplicate only about half the time, and no threshold made automatic merging precise.
So the rules act only in narrow cases and show everything else to the agent:

- **merge**: the same requester wrote near-identical text (cosine >= merge_threshold) within
  a short window: the new ticket is closed as a duplicate of the earlier one.
- **incident**: different requesters, within a short window, with similar text AND at least
  one more signal (the same category, the same urgent reason such as an outage, or the same
  error code). The first such report creates a parent incident ticket; later ones join it.
- otherwise: the top matches with their scores go on `Ticket.triage.similar` for the agent.

`decide` is pure; `create_incident`, `join_incident` and `notify_incident_children` write.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from helpdesk.ai.index import Hit
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain import transitions
from helpdesk.domain.models import AuditEvent, Channel, Priority, Status, Ticket
from helpdesk.exceptions import ConflictError, IllegalTransitionError

logger = logging.getLogger(__name__)

AI_ACTOR = "ai:triage"
INCIDENT_TAG = "incident"
_SAVE_ATTEMPTS = 4
_CODE = re.compile(r"\b(?:[A-Za-z]+[-_]?\d{3,}|\d{3,}[-_]?[A-Za-z]+|0x[0-9a-fA-F]{4,}|\d{3})\b")


class Action(StrEnum):
    NONE = "none"
    MERGE = "merge"
    INCIDENT = "incident"


@dataclass(frozen=True)
class Thresholds:
    """The grouping thresholds (from settings)."""

    merge_threshold: float = 0.95
    merge_window: timedelta = timedelta(hours=24)
    incident_threshold: float = 0.7
    incident_window: timedelta = timedelta(hours=4)
    similar_min_score: float = 0.5
    similar_k: int = 5


@dataclass(frozen=True)
class Candidate:
    """What grouping knows about the new ticket."""

    number: int
    requester: str
    created_at: datetime
    text: str
    category: str | None = None
    priority_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What to do with the new ticket, the match it rests on, and the signals seen."""

    action: Action
    target: int | None = None
    score: float = 0.0
    signals: tuple[str, ...] = ()
    similar: list[dict[str, Any]] = field(default_factory=list)


def index_metadata(ticket: Ticket, text: str = "") -> dict[str, Any]:
    """The metadata a ticket carries in the similarity index (plain scalars only)."""
    metadata: dict[str, Any] = {
        "number": ticket.number,
        "requester": ticket.requester,
        "status": ticket.status.value,
        "status_category": ticket.status_category.value,
        "created_at": int(ticket.created_at.timestamp()),
        "subject": ticket.subject[:200],
        "incident": INCIDENT_TAG in ticket.tags,
    }
    if ticket.category:
        metadata["category"] = ticket.category
    if ticket.incident_of is not None:
        metadata["incident_of"] = ticket.incident_of
    if ticket.triage and ticket.triage.priority_reasons:
        metadata["reasons"] = ",".join(ticket.triage.priority_reasons)
    codes = sorted(error_codes(text))[:10]
    if codes:
        metadata["codes"] = ",".join(codes)
    return metadata


def error_codes(text: str) -> set[str]:
    """Error codes and similar tokens in `text` (E1234, 0x80070005, 503), lower-cased."""
    return {match.lower() for match in _CODE.findall(text)}


def decide(candidate: Candidate, hits: Sequence[Hit], thresholds: Thresholds) -> Decision:
    """Merge, incident or nothing for `candidate`, given its nearest earlier tickets.

    `hits` are the index's answers (best first); the candidate itself and later tickets are
    ignored, so only earlier reports can be targets.
    """
    earlier = [
        hit
        for hit in hits
        if hit.metadata.get("number") != candidate.number
        and _created(hit) <= candidate.created_at.timestamp()
    ]
    similar = [
        {"number": int(hit.metadata["number"]), "score": round(hit.score, 4)}
        for hit in earlier
        if hit.score >= thresholds.similar_min_score
    ][: thresholds.similar_k]
    for hit in earlier:
        age = candidate.created_at.timestamp() - _created(hit)
        same_requester = hit.metadata.get("requester") == candidate.requester
        if (
            same_requester
            and hit.score >= thresholds.merge_threshold
            and age <= thresholds.merge_window.total_seconds()
            and not hit.metadata.get("incident")
        ):
            return Decision(Action.MERGE, int(hit.metadata["number"]), hit.score, (), similar)
    for hit in earlier:
        age = candidate.created_at.timestamp() - _created(hit)
        if (
            hit.metadata.get("requester") == candidate.requester
            or hit.score < thresholds.incident_threshold
            or age > thresholds.incident_window.total_seconds()
        ):
            continue
        signals = _more_signals(candidate, hit)
        if signals:
            target = _incident_target(hit)
            return Decision(Action.INCIDENT, target, hit.score, ("similar_text", *signals), similar)
    return Decision(Action.NONE, None, 0.0, (), similar)


def _created(hit: Hit) -> float:
    value = hit.metadata.get("created_at")
    return float(value) if isinstance(value, int | float) else 0.0


def _more_signals(candidate: Candidate, hit: Hit) -> list[str]:
    signals: list[str] = []
    category = hit.metadata.get("category")
    if candidate.category and candidate.category != "other" and category == candidate.category:
        signals.append("same_category")
    theirs = set(str(hit.metadata.get("reasons", "")).split(","))
    shared = {"outage", "security"} & theirs & set(candidate.priority_reasons)
    signals.extend(sorted(f"both_{reason}" for reason in shared))
    codes = set(str(hit.metadata.get("codes", "")).split(",")) - {""}
    if codes & error_codes(candidate.text):
        signals.append("same_error_code")
    return signals


def _incident_target(hit: Hit) -> int:
    """The incident to join: the hit's parent, the hit itself when it is a parent, else the
    hit's number (a parent will be created around it)."""
    parent = hit.metadata.get("incident_of")
    if isinstance(parent, int):
        return parent
    return int(hit.metadata["number"])


# -- writes -----------------------------------------------------------------------------------


def create_incident(
    tickets: TicketRepository,
    first: Ticket,
    *,
    summary: str,
    requester: str,
    priority: Priority,
    team: str | None,
    now: datetime,
) -> Ticket:
    """Create a parent incident ticket around `first` (the earlier report) and link `first`
    to it; returns the parent. The new report is linked by the caller's own write.

    Raises ConflictError when `first` kept changing.
    """
    number = tickets.next_number()
    parent = Ticket(
        number=number,
        subject=f"Incident: {summary}"[:200],
        requester=requester,
        channel=Channel.API,
        priority=priority,
        team=team,
        category=first.category,
        tags=[INCIDENT_TAG],
        created_at=now,
        updated_at=now,
        incident_children=[first.number],
    )
    event = AuditEvent(
        ticket_number=number,
        at=now,
        actor=AI_ACTOR,
        action="incident_created",
        changes={"incident_children": [[], [first.number]]},
        ai=True,
    )
    stored = tickets.create(parent, None, event)
    _link_child(tickets, first.number, number, now=now)
    logger.info("incident created", extra={"ticket_number": number, "first": first.number})
    return stored


def join_incident(tickets: TicketRepository, parent: int, child: int, *, now: datetime) -> None:
    """Add `child` to the parent's list of children (idempotent); raises ConflictError when
    the parent kept changing."""
    for _ in range(_SAVE_ATTEMPTS):
        ticket = tickets.get(parent)
        if child in ticket.incident_children:
            return
        after, event = transitions.set_fields(
            ticket,
            now=now,
            actor=AI_ACTOR,
            action="incident_joined",
            incident_children=[*ticket.incident_children, child],
        )
        try:
            tickets.save(ticket, after, [event.model_copy(update={"ai": True})])
            return
        except ConflictError:
            continue
    raise ConflictError(f"incident {parent} kept changing")


def _link_child(tickets: TicketRepository, child: int, parent: int, *, now: datetime) -> None:
    for _ in range(_SAVE_ATTEMPTS):
        ticket = tickets.get(child)
        if ticket.incident_of == parent:
            return
        after, event = transitions.set_fields(
            ticket, now=now, actor=AI_ACTOR, action="incident_linked", incident_of=parent
        )
        try:
            tickets.save(ticket, after, [event.model_copy(update={"ai": True})])
            return
        except ConflictError:
            continue
    raise ConflictError(f"ticket {child} kept changing")


def incident_solved_text(parent: Ticket) -> str:
    """The mail every child's requester gets when the incident is solved."""
    return (
        f"The problem you reported is part of an incident we have now solved "
        f"(#{parent.number}: {parent.subject}).\n\n"
        "If it still affects you, reply to this mail and your ticket will reopen.\n"
    )


NotifyChild = Callable[[Ticket, Ticket], None]


def notify_incident_children(
    tickets: TicketRepository,
    parent_number: int,
    *,
    now: datetime,
    notify: NotifyChild,
    actor: str = AI_ACTOR,
) -> list[int]:
    """Solve every open child of a solved incident and notify its requester.

    The portal calls this after an agent solves a parent ticket, with `notify` queuing the
    mail (for example `lambda child, parent: queue_reply(..., ticket_number=child.number,
    text=incident_solved_text(parent), ...)`). Children already solved or closed are left
    alone, so calling it twice notifies nobody twice. Returns the numbers notified.

    Raises NotFoundError for an unknown parent.
    """
    parent = tickets.get(parent_number)
    notified: list[int] = []
    for number in parent.incident_children:
        child = tickets.get(number)
        if child.status in (Status.SOLVED, Status.CLOSED):
            continue
        try:
            after, event = transitions.change_status(child, Status.SOLVED, now=now, actor=actor)
        except IllegalTransitionError:
            continue
        event = event.model_copy(
            update={"changes": {**event.changes, "incident": parent_number}, "ai": True}
        )
        try:
            tickets.save(child, after, [event])
        except ConflictError:
            logger.warning("incident child changed; skipped", extra={"ticket_number": number})
            continue
        notify(after, parent)
        notified.append(number)
    logger.info(
        "incident children notified", extra={"ticket_number": parent_number, "count": len(notified)}
    )
    return notified
