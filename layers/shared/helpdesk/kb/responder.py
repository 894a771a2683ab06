"""The AI first responder: answer a new ticket from the knowledge base, or leave it to a person.

`maybe_answer` is what the triage pipeline calls after classification:

    maybe_answer(ticket_number, now=now, service=service, sentiment_score=None) -> Outcome
    on_customer_reply(message, now=now, service=service) -> bool

It never answers suspended or automatic mail, tickets of categories or requesters an admin
excludes, urgent tickets, very negative ones, or tickets a person has already touched. It
answers only when the best public article is a confident match (score and gap, `KbSettings`),
then marks the ticket pending the customer's "Did this solve it?" with signed, single-use yes
and no links. Yes solves it as AI-resolved; no, or any reply, hands it back to a person with an
internal note of what was tried (`confirm`, `on_customer_reply`).

Every AI reply is marked: `Message.ai_generated`, a visible line to the customer, and audit
events with `ai=True`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Channel,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Priority,
    Status,
    Ticket,
)
from helpdesk.domain.transitions import change_status
from helpdesk.exceptions import (
    AnswerError,
    ConflictError,
    NotFoundError,
    SendThrottledError,
    UnauthorizedError,
)
from helpdesk.kb.answer import Answer, Answerer
from helpdesk.kb.confirm import (
    AnswerRecord,
    AnswerRecords,
    Choice,
    TokenClaims,
    expiry,
    new_nonce,
    sign,
    verify,
)
from helpdesk.kb.models import Audience
from helpdesk.kb.search import Retrieval
from helpdesk.kb.service import KnowledgeBase
from helpdesk.kb.settings import KbSettings
from helpdesk.settings import MailSettings

logger = logging.getLogger(__name__)

ACTOR = "ai"
PENDING_TAG = "ai_answer_pending"
RESOLVED_TAG = "ai_resolved"
AI_LINE = (
    "This answer was written automatically by our AI assistant from our help articles. "
    "If it does not solve your question, a person from our team will take over."
)
POLICY_KIND = "ai"
POLICY_ID = "responder"
_SAVE_ATTEMPTS = 3


class ResponderPolicy(BaseModel):
    """What an admin decides (configuration kind `ai`, id `responder`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    excluded_categories: list[str] = Field(default_factory=list)
    # Full addresses, or `@domain` for everyone at a domain.
    excluded_requesters: list[str] = Field(default_factory=list)
    # Sentiment scores run from -1 to 1 (helpdesk.ai.text.sentiment); at or below this the
    # customer is upset enough that a person should answer.
    min_sentiment: float = -0.6
    channels: list[Channel] = Field(default_factory=lambda: list(Channel))
    confirm_hours: int = 168


def load_policy(config: ConfigRepository) -> ResponderPolicy:
    """The admin's responder policy, or the defaults when none is stored."""
    try:
        return config.get(POLICY_KIND, POLICY_ID, ResponderPolicy)
    except NotFoundError:
        return ResponderPolicy()


class Skip(StrEnum):
    """Why the first responder left a ticket to a person."""

    DISABLED = "disabled"
    CHANNEL = "channel_excluded"
    SUSPENDED = "suspended"
    AUTOMATIC = "automatic_mail"
    NOT_NEW = "not_new"
    GROUPED = "grouped"
    CATEGORY = "category_excluded"
    REQUESTER = "requester_excluded"
    URGENT = "urgent"
    NEGATIVE = "very_negative"
    NO_QUESTION = "no_question"
    NOT_CONFIDENT = "not_confident"
    NOT_COVERED = "not_covered"
    ANSWER_FAILED = "answer_failed"
    RATE_LIMITED = "rate_limited"
    NOT_SENT = "not_sent"


@dataclass
class ResponderService:
    """What the first responder works with; build one per container."""

    tickets: TicketRepository
    kb: KnowledgeBase
    records: AnswerRecords
    answerer: Answerer
    policy: ResponderPolicy
    settings: KbSettings
    mail: MailSettings
    # H2's outbound queue; email tickets' answers are queued for sending through it.
    outbound: Any = None
    # H2's cap on automatic mail per address and hour (helpdesk.mail.ratelimit); an email
    # answer over the cap is not written, and a person answers instead.
    limiter: Any = None


@dataclass
class Outcome:
    """What `maybe_answer` did."""

    answered: bool
    reason: str
    articles: list[str] = field(default_factory=list)
    score: float = 0.0
    gap: float = 0.0
    message_id: str | None = None


# -- pure decisions -------------------------------------------------------------------------


def skip_reason(
    ticket: Ticket,
    first: Message | None,
    policy: ResponderPolicy,
    *,
    sentiment_score: float | None,
) -> Skip | None:
    """Why the responder must not answer this ticket, or None when it may try."""
    triage = ticket.triage
    category = (ticket.category or (triage.category if triage else None) or "").lower()
    excluded = {c.lower() for c in policy.excluded_categories}
    rules: list[tuple[bool, Skip]] = [
        (not policy.enabled, Skip.DISABLED),
        (ticket.channel not in policy.channels, Skip.CHANNEL),
        (ticket.suspended, Skip.SUSPENDED),
        (first is None or _automatic(first), Skip.AUTOMATIC),
        (ticket.status != Status.OPEN or ticket.assignee is not None, Skip.NOT_NEW),
        (PENDING_TAG in ticket.tags or RESOLVED_TAG in ticket.tags, Skip.NOT_NEW),
        # A duplicate or an incident's child is followed up with its group, by a person.
        (ticket.duplicate_of is not None or ticket.incident_of is not None, Skip.GROUPED),
        (bool(category) and category in excluded, Skip.CATEGORY),
        (requester_excluded(ticket.requester, policy.excluded_requesters), Skip.REQUESTER),
        (ticket.priority == Priority.URGENT, Skip.URGENT),
        (
            _very_negative(triage.sentiment if triage else None, sentiment_score, policy),
            Skip.NEGATIVE,
        ),
    ]
    for broken, reason in rules:
        if broken:
            return reason
    return None


def requester_excluded(requester: str, excluded: list[str]) -> bool:
    """True when the address, or its `@domain`, is in the admin's list."""
    address = requester.strip().lower()
    domain = "@" + address.rpartition("@")[2]
    return any(entry.strip().lower() in {address, domain} for entry in excluded)


def is_confident(retrieval: Retrieval, settings: KbSettings) -> bool:
    """True when the best article clears both the score and the gap thresholds (semantic ones
    when semantic search ran, keyword ones otherwise)."""
    if retrieval.best is None:
        return False
    score, gap = retrieval.confidence()
    if retrieval.semantic:
        return score >= settings.kb_min_score and gap >= settings.kb_min_gap
    return score >= settings.kb_keyword_min_score and gap >= settings.kb_keyword_min_gap


def question_of(ticket: Ticket, first: Message) -> str:
    """What the customer asked: the subject and the visible text of their first message."""
    body = first.visible_text or first.text
    return f"{ticket.subject}\n{body}".strip()


# -- the pipeline step ----------------------------------------------------------------------


def maybe_answer(
    ticket_number: int,
    *,
    now: datetime,
    service: ResponderService,
    sentiment_score: float | None = None,
) -> Outcome:
    """Answer a new ticket from the KB when allowed and confident; returns what happened.

    Call it after triage has written category, priority and sentiment. Never raises for an
    answer it cannot write (LLM down, ungrounded text): the ticket simply stays with a person.
    Raises NotFoundError for an unknown ticket, ConflictError when the ticket kept changing.
    """
    thread = service.tickets.thread(ticket_number)
    ticket = thread.ticket
    first = _first_customer_message(thread.messages)
    if sentiment_score is None and first is not None:
        sentiment_score = _sentiment(question_of(ticket, first))
    reason = skip_reason(ticket, first, service.policy, sentiment_score=sentiment_score)
    if reason is not None or first is None:
        return _skipped(ticket_number, reason or Skip.AUTOMATIC)

    question = question_of(ticket, first)
    if not question.strip():
        return _skipped(ticket_number, Skip.NO_QUESTION)
    retrieval = _retrieve(service, ticket, question)
    score, gap = retrieval.confidence()
    if not is_confident(retrieval, service.settings):
        return _skipped(ticket_number, Skip.NOT_CONFIDENT, score=score, gap=gap)
    try:
        answer = service.answerer.answer(question, retrieval, base_url=_base(service))
    except AnswerError:
        logger.warning("ai answer refused", extra={"ticket_number": ticket_number}, exc_info=True)
        return _skipped(ticket_number, Skip.ANSWER_FAILED, score=score, gap=gap)
    if answer is None:
        return _skipped(ticket_number, Skip.NOT_COVERED, score=score, gap=gap)
    if _over_mail_limit(service, ticket, now=now):
        return _skipped(ticket_number, Skip.RATE_LIMITED, score=score, gap=gap)

    record = AnswerRecord(
        ticket_number=ticket_number,
        nonce=new_nonce(),
        created_at=now,
        expires_at=now + timedelta(hours=service.policy.confirm_hours),
        articles=[c.id for c in answer.citations],
        titles=[c.title for c in answer.citations],
        score=round(score, 4),
        gap=round(gap, 4),
        provider=answer.provider,
        answer_excerpt=answer.text[:500],
    )
    message = _store_answer(service, ticket_number, answer, record, now=now)
    if message is None:
        return _skipped(ticket_number, Skip.NOT_NEW, score=score, gap=gap)
    if not _send(service, ticket_number, message, record, now=now):
        return Outcome(False, Skip.NOT_SENT.value, record.articles, score, gap, message.id)
    logger.info(
        "ai answered",
        extra={"ticket_number": ticket_number, "articles": record.articles, "score": score},
    )
    return Outcome(True, "answered", record.articles, score, gap, message.id)


def confirm(token: str, *, now: datetime, service: ResponderService) -> tuple[int, Choice]:
    """Apply a customer's yes or no; returns (ticket number, choice).

    Yes solves the ticket as AI-resolved; no hands it back to a person. Raises
    UnauthorizedError for a tampered, expired or already used link.
    """
    claims: TokenClaims = verify(token, service.mail.token_secret, now=now)
    record = service.records.get(claims.ticket_number, claims.nonce)
    if record is None or not service.records.use(claims.ticket_number, claims.nonce, claims.choice):
        raise UnauthorizedError("this link was already used")
    if claims.choice == Choice.YES:
        _solve(service, claims.ticket_number, now=now)
    else:
        _hand_back(service, record, "the customer said the answer did not solve it", now=now)
    return claims.ticket_number, claims.choice


def on_customer_reply(message: Message, *, now: datetime, service: ResponderService) -> bool:
    """Hand a ticket back to a person when its customer writes after an AI answer; returns
    whether it did. Call it for every new message stored on a ticket: messages that are not a
    customer's own (notes, our replies, automatic mail) or that are older than the answer (the
    ticket's first message, read from the same stream batch) change nothing."""
    if (
        message.direction != Direction.INBOUND
        or message.kind != MessageKind.PUBLIC_REPLY
        or _automatic(message)
    ):
        return False
    handed = False
    for record in service.records.pending(message.ticket_number):
        if message.created_at <= record.created_at:
            continue
        if service.records.use(message.ticket_number, record.nonce, "customer_replied"):
            _hand_back(service, record, "the customer replied to the answer", now=now)
            handed = True
    return handed


def confirm_links(service: ResponderService, record: AnswerRecord) -> dict[Choice, str]:
    """The yes and no links of an answer (absolute when `public_url` is set)."""
    expires = expiry(record.created_at, service.policy.confirm_hours)
    base = service.settings.public_url.rstrip("/")
    links = {}
    for choice in Choice:
        token = sign(
            TokenClaims(
                ticket_number=record.ticket_number,
                nonce=record.nonce,
                choice=choice,
                expires=expires,
            ),
            service.mail.token_secret,
        )
        links[choice] = f"{base}/api/portal/kb/confirm?token={token}"
    return links


def answer_text(answer: Answer, links: dict[Choice, str]) -> str:
    """The reply the customer reads: the answer, its sources, the question, the AI line."""
    sources = "\n".join(f"- {c.title}: {c.url}" for c in answer.citations)
    return (
        f"{answer.text}\n\n"
        f"Source{'s' if len(answer.citations) > 1 else ''}:\n{sources}\n\n"
        "Did this solve it?\n"
        f"Yes, it is solved: {links[Choice.YES]}\n"
        f"No, I still need help: {links[Choice.NO]}\n"
        "(You can also simply reply to this message to reach a person.)\n\n"
        f"-- {AI_LINE}\n"
    )


# -- writes ---------------------------------------------------------------------------------


def _store_answer(
    service: ResponderService,
    ticket_number: int,
    answer: Answer,
    record: AnswerRecord,
    *,
    now: datetime,
) -> Message | None:
    text = answer_text(answer, confirm_links(service, record))
    service.records.put(record)
    for _ in range(_SAVE_ATTEMPTS):
        thread = service.tickets.thread(ticket_number)
        ticket = thread.ticket
        if ticket.status != Status.OPEN or ticket.assignee is not None:
            # A person (or another writer) got there first; the answer is not sent.
            service.records.use(ticket_number, record.nonce, "superseded")
            return None
        message = _reply_message(service, ticket, thread.messages, text, now=now)
        pending, status_event = change_status(ticket, Status.PENDING, now=now, actor=ACTOR)
        after = pending.model_copy(update={"tags": [*ticket.tags, PENDING_TAG]})
        events = [
            status_event.model_copy(update={"ai": True}),
            AuditEvent(
                ticket_number=ticket_number,
                at=now,
                actor=ACTOR,
                action="ai_answered",
                changes={
                    "articles": record.articles,
                    "score": record.score,
                    "gap": record.gap,
                    "provider": record.provider,
                    "message": message.id,
                    "stripped_links": len(answer.stripped_links),
                },
                ai=True,
            ),
        ]
        try:
            service.tickets.save(ticket, after, events, [message])
        except ConflictError:
            continue
        return message
    raise ConflictError("the ticket kept changing; the AI answer was not stored")


def _reply_message(
    service: ResponderService,
    ticket: Ticket,
    thread: list[Message],
    text: str,
    *,
    now: datetime,
) -> Message:
    if ticket.channel == Channel.EMAIL and service.outbound is not None:
        from helpdesk.mail.outbound import AUTO_REPLIED, build_outbound

        message = build_outbound(
            ticket,
            thread,
            text=text,
            author=service.mail.support_address,
            now=now,
            domain=service.mail.mail_domain,
            auto_submitted=AUTO_REPLIED,
        )
        return message.model_copy(update={"ai_generated": True})
    return Message(
        ticket_number=ticket.number,
        id=uuid.uuid4().hex[:16],
        created_at=now,
        direction=Direction.OUTBOUND,
        kind=MessageKind.PUBLIC_REPLY,
        author=ACTOR,
        text=text,
        visible_text=text,
        ai_generated=True,
    )


def _send(
    service: ResponderService,
    ticket_number: int,
    message: Message,
    record: AnswerRecord,
    *,
    now: datetime,
) -> bool:
    """Queue an email answer for sending; False (and the ticket back with a person) when the
    queue refuses it. Answers on other channels need no sending."""
    if message.delivery_state != DeliveryState.QUEUED or service.outbound is None:
        return True
    from helpdesk.mail.outbound import SendJob

    assert message.message_id is not None
    try:
        service.outbound.put(SendJob(ticket_number=ticket_number, message_id=message.message_id))
    except SendThrottledError:
        logger.warning("ai answer not queued; handing back", extra={"ticket_number": ticket_number})
        failed = message.model_copy(
            update={"delivery_state": DeliveryState.FAILED, "delivery_detail": "not queued"}
        )
        service.tickets.update_message(failed)
        if service.records.use(ticket_number, record.nonce, "not_sent"):
            _hand_back(service, record, "the answer could not be sent", now=now)
        return False
    return True


def _solve(service: ResponderService, ticket_number: int, *, now: datetime) -> None:
    for _ in range(_SAVE_ATTEMPTS):
        ticket = service.tickets.get(ticket_number)
        tags = [t for t in ticket.tags if t != PENDING_TAG] + [RESOLVED_TAG]
        events: list[AuditEvent] = []
        after = ticket
        if ticket.status != Status.SOLVED and ticket.status != Status.CLOSED:
            after, event = change_status(ticket, Status.SOLVED, now=now, actor=ticket.requester)
            events.append(event.model_copy(update={"ai": True}))
        after = after.model_copy(update={"ai_resolved": True, "tags": tags, "updated_at": now})
        events.append(
            AuditEvent(
                ticket_number=ticket_number,
                at=now,
                actor=ticket.requester,
                action="ai_answer_confirmed",
                changes={"ai_resolved": [ticket.ai_resolved, True]},
                ai=True,
            )
        )
        try:
            service.tickets.save(ticket, after, events)
            return
        except ConflictError:
            continue
    raise ConflictError("the ticket kept changing; the confirmation was not stored")


def _hand_back(service: ResponderService, record: AnswerRecord, why: str, *, now: datetime) -> None:
    note_text = handoff_note(record, why)
    for _ in range(_SAVE_ATTEMPTS):
        ticket = service.tickets.get(record.ticket_number)
        events: list[AuditEvent] = []
        after = ticket
        if ticket.status not in (Status.OPEN, Status.CLOSED):
            after, event = change_status(ticket, Status.OPEN, now=now, actor=ACTOR)
            events.append(event.model_copy(update={"ai": True}))
        after = after.model_copy(
            update={
                "tags": [t for t in ticket.tags if t != PENDING_TAG],
                "assignee": None,
                "updated_at": now,
            }
        )
        note = Message(
            ticket_number=ticket.number,
            id=uuid.uuid4().hex[:16],
            created_at=now,
            direction=Direction.INTERNAL,
            kind=MessageKind.INTERNAL_NOTE,
            author=ACTOR,
            text=note_text,
            visible_text=note_text,
            ai_generated=True,
        )
        events.append(
            AuditEvent(
                ticket_number=ticket.number,
                at=now,
                actor=ACTOR,
                action="ai_handed_back",
                changes={"reason": why, "team": ticket.team, "articles": record.articles},
                ai=True,
            )
        )
        try:
            service.tickets.save(ticket, after, events, [note])
            logger.info("ai answer handed back", extra={"ticket_number": ticket.number})
            return
        except ConflictError:
            continue
    raise ConflictError("the ticket kept changing; the hand-back was not stored")


def handoff_note(record: AnswerRecord, why: str) -> str:
    """The internal note a person reads when a ticket comes back from the AI."""
    articles = "; ".join(
        f"{title} ({article_id})"
        for article_id, title in zip(record.articles, record.titles, strict=False)
    )
    return (
        f"Back from the AI first responder: {why}.\n"
        f"It answered from: {articles} (match score {record.score:.2f}, gap "
        f"{record.gap:.2f}, {record.provider} answer).\n"
        f"What it told the customer began:\n{record.answer_excerpt[:300]}"
    )


# -- helpers --------------------------------------------------------------------------------


def _over_mail_limit(service: ResponderService, ticket: Ticket, *, now: datetime) -> bool:
    """Count this answer against the address's automatic-mail cap; True when over it."""
    if ticket.channel != Channel.EMAIL or service.outbound is None or service.limiter is None:
        return False
    return not service.limiter.allow(ticket.requester, now=now)


def _retrieve(service: ResponderService, ticket: Ticket, question: str) -> Retrieval:
    """Public articles in the ticket's language when triage named one and the KB has any in
    it; otherwise in every locale."""
    language = (ticket.triage.language if ticket.triage else None) or ""
    if language:
        found = service.kb.retrieve(
            question, audience=Audience.CUSTOMER, k=5, locale=language.lower()
        )
        if found.candidates:
            return found
    return service.kb.retrieve(question, audience=Audience.CUSTOMER, k=5)


def _first_customer_message(messages: list[Message]) -> Message | None:
    for message in messages:
        if message.direction == Direction.INBOUND:
            return message
    return None


def _automatic(message: Message) -> bool:
    value = (message.auto_submitted or "").strip().lower()
    return bool(value) and value != "no"


def _very_negative(label: str | None, score: float | None, policy: ResponderPolicy) -> bool:
    if label and label.lower().replace(" ", "_") == "very_negative":
        return True
    return score is not None and score <= policy.min_sentiment


def _sentiment(text: str) -> float | None:
    from helpdesk.ai.text import sentiment

    return sentiment(text)[1]


def _base(service: ResponderService) -> str:
    base = service.settings.kb_base_url
    if base.startswith("/") and service.settings.public_url:
        return service.settings.public_url.rstrip("/") + base
    return base


def _skipped(ticket_number: int, reason: Skip, *, score: float = 0.0, gap: float = 0.0) -> Outcome:
    logger.debug("ai did not answer", extra={"ticket_number": ticket_number, "reason": reason})
    return Outcome(False, reason.value, score=score, gap=gap)
