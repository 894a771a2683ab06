"""The triage pipeline fed by the table's stream: embed, find similar, group, classify, write.

One stream record at a time (`process_record`), inside Powertools' BatchProcessor so that a
failing record is reported in `batchItemFailures` and never blocks the others:

- a ticket item (SK = TICKET) that has no triage yet: the full pipeline;
- a ticket item that has one (our own write, or any later change): keep the index current
  (update the entry's status, delete it when the ticket closes);
- a removed ticket item: delete it from the index;
- a new inbound public message on a triaged ticket: run the priority rules on it and raise
  the ticket's priority if the new text calls for it (never lower it).

The handler's own write arrives again as a MODIFY; it carries a triage, so it only updates the
index: the pipeline cannot loop.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np
from boto3.dynamodb.types import TypeDeserializer

from helpdesk.ai import text as signals
from helpdesk.ai.embed import Embedder, ticket_vectors
from helpdesk.ai.grouping import (
    AI_ACTOR,
    INCIDENT_TAG,
    Action,
    Candidate,
    Decision,
    Thresholds,
    create_incident,
    decide,
    index_metadata,
    join_incident,
)
from helpdesk.ai.index import Filters, Hit, Range, Scalar
from helpdesk.ai.triage import TriageInput, Triager, TriageResult
from helpdesk.data import keys
from helpdesk.data.items import from_item
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain import transitions
from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    MessageKind,
    Status,
    StatusCategory,
    Ticket,
)
from helpdesk.events import EventPublisher
from helpdesk.exceptions import ConflictError, NotFoundError

logger = logging.getLogger(__name__)

_DESERIALIZER = TypeDeserializer()
OPEN_CATEGORIES = [StatusCategory.OPEN.value, StatusCategory.PENDING.value]
_CONFLICT_ATTEMPTS = 3


class TicketIndex(Protocol):
    """What the pipeline needs from a similarity index."""

    def upsert(self, id: str, vector: np.ndarray, metadata: dict[str, Scalar]) -> None: ...

    def delete(self, id: str) -> None: ...

    def update_metadata(self, id: str, metadata: dict[str, Scalar]) -> bool: ...

    def query(
        self, vector: np.ndarray, k: int = 10, filters: Filters | None = None
    ) -> list[Hit]: ...


@dataclass
class Pipeline:
    """Everything one record needs; built once per container by `service.build_pipeline`."""

    tickets: TicketRepository
    index: TicketIndex
    embedder: Embedder
    triager: Triager
    publisher: EventPublisher | None
    thresholds: Thresholds
    window: timedelta
    incident_requester: str
    vip: Any = None
    subject_weight: float = 0.5
    # The knowledge base's first responder (helpdesk.kb.responder), when the desk has one.
    responder: Any = None

    # -- records ----------------------------------------------------------------------------

    def process_record(self, record: dict[str, Any], *, now: datetime) -> str:
        """Handle one DynamoDB stream record; returns what was done (for logs and tests).

        Raises whatever a step raises (ConflictError, EmbeddingError, ...) so that the batch
        processor reports this record as failed and the stream retries it.
        """
        event_name = record.get("eventName")
        change = record.get("dynamodb") or {}
        sort_key = _key(change, "SK")
        if sort_key == keys.TICKET_SK:
            if event_name == "REMOVE":
                self.index.delete(_number(_key(change, "PK")))
                return "removed"
            ticket = Ticket.model_validate(from_item(_image(change, "NewImage")))
            if ticket.triage is None and INCIDENT_TAG not in ticket.tags:
                done = self._with_retries(self.triage_ticket, ticket.number, now=now)
                self._first_answer(ticket.number, now=now)
                return done
            return self.keep_index_current(ticket)
        if sort_key.startswith("MSG#") and event_name == "INSERT":
            message = Message.model_validate(from_item(_image(change, "NewImage")))
            self._hand_back(message, now=now)
            return self.reconsider_priority(message, now=now)
        return "ignored"

    def _first_answer(self, number: int, *, now: datetime) -> None:
        """Let the first responder answer a newly triaged ticket from the knowledge base.

        A failure leaves the ticket with a person, which is always safe; it never fails the
        record (a retry would triage the ticket again)."""
        if self.responder is None:
            return
        from helpdesk.kb.responder import maybe_answer

        try:
            outcome = maybe_answer(number, now=now, service=self.responder)
        except Exception:  # the ticket stays with a person
            logger.exception("first responder failed", extra={"ticket_number": number})
            return
        logger.info(
            "first responder decided",
            extra={"ticket_number": number, "answered": outcome.answered, "reason": outcome.reason},
        )

    def _hand_back(self, message: Message, *, now: datetime) -> None:
        """A customer writing after an AI answer hands the ticket back to a person."""
        if self.responder is None:
            return
        from helpdesk.kb.responder import on_customer_reply

        on_customer_reply(message, now=now, service=self.responder)

    def _with_retries(self, step: Any, number: int, *, now: datetime) -> str:
        """Run `step` again when another writer changed the ticket first (an agent, the
        assignment rules on the same stream); the last ConflictError goes to the caller."""
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                return str(step(number, now=now))
            except ConflictError:
                if attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
                logger.debug(
                    "ticket changed while triaging; retrying", extra={"ticket_number": number}
                )
        return "skipped"

    # -- new tickets ------------------------------------------------------------------------

    def triage_ticket(self, number: int, *, now: datetime) -> str:
        """Embed, search, group, classify and write back one new ticket; returns the action.

        Reads the ticket again (consistently): if it was triaged meanwhile, nothing happens.
        """
        thread = self.tickets.thread(number)
        ticket = thread.ticket
        if ticket.triage is not None or ticket.status_category == StatusCategory.CLOSED:
            return "skipped"
        first = _first_customer_message(thread.messages)
        item = TriageInput(ticket.subject, _body(first), ticket.requester)

        full, search = ticket_vectors(
            self.embedder, [item.subject], [item.body], self.subject_weight
        )
        vector = search[0]
        hits = self.index.query(
            vector, k=self.thresholds.similar_k + 5, filters=self.open_filters(now)
        )
        result = self.triager.triage(item, full[0])
        candidate = Candidate(
            number=ticket.number,
            requester=ticket.requester,
            created_at=ticket.created_at,
            text=item.text,
            category=result.category,
            priority_reasons=tuple(result.priority_reasons),
        )
        decision = decide(candidate, hits, self.thresholds)

        after, _ = self._write(ticket, first, result, decision, now=now)
        if after.status_category == StatusCategory.CLOSED:
            self.index.delete(str(number))
        else:
            self.index.upsert(str(number), vector, index_metadata(after, item.text))
        self._publish(after, result, decision, now=now)
        logger.info(
            "ticket triaged",
            extra={
                "ticket_number": number,
                "action": decision.action.value,
                "category": result.category,
                "priority": result.priority.value,
                "provider": result.provider,
            },
        )
        return decision.action.value

    def _write(
        self,
        ticket: Ticket,
        first: Message | None,
        result: TriageResult,
        decision: Decision,
        *,
        now: datetime,
    ) -> tuple[Ticket, list[AuditEvent]]:
        fields: dict[str, Any] = {
            "triage": result.to_triage(decision.similar),
            "category": result.category,
            "priority": result.priority,
        }
        if ticket.team is None and result.team is not None:
            fields["team"] = result.team
        if decision.action == Action.INCIDENT and decision.target is not None:
            fields["incident_of"] = self._incident_for(decision.target, ticket, result, now=now)
        after, event = transitions.set_fields(
            ticket, now=now, actor=AI_ACTOR, action="triaged", **fields
        )
        event = event.model_copy(
            update={
                "ai": True,
                "changes": {
                    **event.changes,
                    "triage": {"provider": result.provider, "action": decision.action.value},
                },
            }
        )
        events = [event]
        if decision.action == Action.MERGE and decision.target is not None:
            original = self.tickets.get(decision.target)
            self._copy_into(original, ticket, first, score=decision.score, now=now)
            after, merged = transitions.mark_duplicate(after, original, now=now, actor=AI_ACTOR)
            merged = merged.model_copy(
                update={"ai": True, "changes": {**merged.changes, "score": decision.score}}
            )
            events.append(merged)
        stored = self.tickets.save(ticket, after, events)
        if decision.action == Action.INCIDENT and stored.incident_of is not None:
            join_incident(self.tickets, stored.incident_of, stored.number, now=now)
        return stored, events

    def _incident_for(
        self, target: int, ticket: Ticket, result: TriageResult, *, now: datetime
    ) -> int:
        """The parent incident for a new report matching ticket `target`: the existing one,
        or a new parent created around `target`."""
        match = self.tickets.get(target)
        if INCIDENT_TAG in match.tags:
            return match.number
        if match.incident_of is not None:
            return match.incident_of
        priority = min(match.priority, result.priority, key=lambda p: p.rank)
        parent = create_incident(
            self.tickets,
            match,
            summary=(match.triage.summary if match.triage else None) or match.subject,
            requester=self.incident_requester,
            priority=priority,
            team=match.team or result.team,
            now=now,
        )
        if self.publisher is not None:
            self.publisher.publish(
                "IncidentCreated",
                {"ticket_number": parent.number, "children": [match.number, ticket.number]},
                now=now,
            )
        return parent.number

    def _copy_into(
        self,
        original: Ticket,
        duplicate: Ticket,
        first: Message | None,
        *,
        score: float,
        now: datetime,
    ) -> None:
        """Put the duplicate's first message on the original ticket (once), so the agent
        working the original sees it."""
        copy_id = f"merged-{duplicate.number}"
        thread = self.tickets.thread(original.number)
        if any(message.id == copy_id for message in thread.messages):
            return
        text = _body(first) or duplicate.subject
        message = Message(
            ticket_number=original.number,
            id=copy_id,
            created_at=first.created_at if first else duplicate.created_at,
            direction=Direction.INBOUND,
            kind=MessageKind.PUBLIC_REPLY,
            author=duplicate.requester,
            text=first.text if first else text,
            visible_text=text,
            references=[first.message_id] if first and first.message_id else [],
        )
        event = AuditEvent(
            ticket_number=original.number,
            at=now,
            actor=AI_ACTOR,
            action="merged_in",
            changes={"from": duplicate.number, "score": round(score, 4)},
            ai=True,
        )
        after = thread.ticket.model_copy(update={"updated_at": now})
        self.tickets.save(thread.ticket, after, [event], [message])

    # -- changes to known tickets -----------------------------------------------------------

    def keep_index_current(self, ticket: Ticket) -> str:
        """Update the index entry of a changed ticket: delete it when closed or merged, else
        refresh its metadata (status, category, incident)."""
        key = str(ticket.number)
        if ticket.status_category == StatusCategory.CLOSED or ticket.duplicate_of is not None:
            self.index.delete(key)
            return "index_deleted"
        if INCIDENT_TAG in ticket.tags:
            return "ignored"
        metadata = index_metadata(ticket)
        if self.index.update_metadata(key, metadata):
            return "index_updated"
        # NOTE: a triaged open ticket missing from the index (a lost save, a new index) is
        # embedded again, so the index repairs itself as tickets change.
        thread = self.tickets.thread(ticket.number)
        item = TriageInput(ticket.subject, _body(_first_customer_message(thread.messages)))
        _, search = ticket_vectors(self.embedder, [item.subject], [item.body], self.subject_weight)
        self.index.upsert(key, search[0], index_metadata(thread.ticket, item.text))
        return "index_repaired"

    def reconsider_priority(self, message: Message, *, now: datetime) -> str:
        """Raise a triaged ticket's priority when a new customer message calls for it."""
        if message.direction != Direction.INBOUND or message.kind != MessageKind.PUBLIC_REPLY:
            return "ignored"
        try:
            ticket = self.tickets.get(message.ticket_number)
        except NotFoundError:
            return "ignored"
        if ticket.triage is None or ticket.status in (Status.SOLVED, Status.CLOSED):
            return "ignored"
        text = message.visible_text or message.text
        label, score = signals.sentiment(text)
        decision = signals.decide_priority(
            text,
            vip=bool(self.vip and self.vip(ticket.requester)),
            sentiment_label=label,
            sentiment_score=score,
        )
        if decision.priority.rank >= ticket.priority.rank:
            return "unchanged"
        reasons = sorted(set(ticket.triage.priority_reasons) | set(decision.reasons))
        triage = ticket.triage.model_copy(update={"priority_reasons": reasons})
        after, event = transitions.set_fields(
            ticket,
            now=now,
            actor=AI_ACTOR,
            action="priority_raised",
            priority=decision.priority,
            triage=triage,
        )
        event = event.model_copy(
            update={"ai": True, "changes": {**event.changes, "message": message.id}}
        )
        self.tickets.save(ticket, after, [event])
        if self.publisher is not None:
            self.publisher.publish(
                "TicketPriorityRaised",
                {
                    "ticket_number": ticket.number,
                    "priority": decision.priority.value,
                    "reasons": decision.reasons,
                },
                now=now,
            )
        return "priority_raised"

    # -- helpers ----------------------------------------------------------------------------

    def open_filters(self, now: datetime) -> Filters:
        """Candidates for grouping: open or pending, created within the window."""
        return {
            "status_category": OPEN_CATEGORIES,
            "created_at": Range(gte=(now - self.window).timestamp()),
        }

    def _publish(
        self, ticket: Ticket, result: TriageResult, decision: Decision, *, now: datetime
    ) -> None:
        if self.publisher is None:
            return
        self.publisher.publish(
            "TicketTriaged",
            {
                "ticket_number": ticket.number,
                "category": result.category,
                "priority": result.priority.value,
                "team": ticket.team,
                "provider": result.provider,
                "action": decision.action.value,
                "duplicate_of": ticket.duplicate_of,
                "incident_of": ticket.incident_of,
                "similar": decision.similar,
            },
            now=now,
        )


def _key(change: dict[str, Any], name: str) -> str:
    value = (change.get("Keys") or {}).get(name) or {}
    return str(value.get("S", ""))


def _number(partition_key: str) -> str:
    return partition_key.removeprefix("TICKET#")


def _image(change: dict[str, Any], name: str) -> dict[str, Any]:
    image = change.get(name) or {}
    return {attribute: _DESERIALIZER.deserialize(value) for attribute, value in image.items()}


def _first_customer_message(messages: list[Message]) -> Message | None:
    inbound = [m for m in messages if m.direction == Direction.INBOUND]
    return min(inbound, key=lambda m: m.created_at) if inbound else None


def _body(message: Message | None) -> str:
    if message is None:
        return ""
    return (message.visible_text or message.text or "").strip()


def new_batch_id() -> str:
    """A short id that ties a batch's log lines together."""
    return uuid.uuid4().hex[:12]
