"""Domain models: tickets, messages, people, teams and audit events (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for the most urgent, so that ascending order is most urgent first."""
        return list(Priority).index(self)


class StatusCategory(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def category(self) -> StatusCategory:
        return _STATUS_CATEGORY[self]

    @property
    def pauses_sla(self) -> bool:
        """Pending the customer and on hold stop the SLA clocks."""
        return self in (Status.PENDING, Status.ON_HOLD)


_STATUS_CATEGORY = {
    Status.OPEN: StatusCategory.OPEN,
    Status.PENDING: StatusCategory.PENDING,
    Status.ON_HOLD: StatusCategory.PENDING,
    Status.SOLVED: StatusCategory.CLOSED,
    Status.CLOSED: StatusCategory.CLOSED,
}


class Channel(StrEnum):
    EMAIL = "email"
    PORTAL = "portal"
    API = "api"
    CHAT = "chat"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class MessageKind(StrEnum):
    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    SYSTEM = "system"


class DeliveryState(StrEnum):
    """The visible state of an outbound mail on the ticket."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BOUNCED = "bounced"


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True)


class Organisation(_Model):
    id: str
    name: str
    domains: list[str] = Field(default_factory=list)
    tier: str = "standard"
    shared_tickets: bool = False


class Requester(_Model):
    email: str
    name: str = ""
    organisation_id: str | None = None
    tier: str = "standard"
    vip: bool = False

    @field_validator("email")
    @classmethod
    def _normalise_email(cls, value: str) -> str:
        value = value.strip().lower()
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("not an email address")
        return value


class Agent(_Model):
    id: str
    email: str
    name: str
    role: Role = Role.AGENT
    teams: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)
    online: bool = True
    away_since: datetime | None = None
    max_open: int | None = None


class AssignmentMode(StrEnum):
    MANUAL = "manual"
    ROUND_ROBIN = "round_robin"
    LOAD_BASED = "load_based"


class Team(_Model):
    id: str
    name: str
    assignment: AssignmentMode = AssignmentMode.MANUAL
    calendar_id: str | None = None
    match_skills: bool = False
    away_reassign_minutes: int | None = None


class Attachment(_Model):
    filename: str
    content_type: str
    size: int
    key: str | None = None
    inline: bool = False
    content_id: str | None = None


class SkippedAttachment(_Model):
    filename: str
    content_type: str
    size: int
    reason: str


class Message(_Model):
    ticket_number: int
    id: str
    created_at: datetime
    direction: Direction
    kind: MessageKind = MessageKind.PUBLIC_REPLY
    author: str
    text: str = ""
    visible_text: str = ""
    html: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    skipped: list[SkippedAttachment] = Field(default_factory=list)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    delivery_state: DeliveryState | None = None
    delivery_detail: str | None = None
    ai_generated: bool = False
    source_key: str | None = None
    # An internal notice's own addressee (an agent, a manager); never the requester's thread.
    recipient: str | None = None
    # Email only: SES's receipt verdicts (spam, virus, spf, dkim, dmarc) for inbound mail; for
    # outbound mail the id SES gave it and the Auto-Submitted value it carries, if automatic.
    verdicts: dict[str, str] = Field(default_factory=dict)
    provider_message_id: str | None = None
    auto_submitted: str | None = None


class SlaClock(_Model):
    """One SLA target's state on a ticket.

    `warned_at` and `breached_at` are when the sweep detected them; `started_at` tells one
    next-response cycle from the next; `minutes_taken` is as of the last refresh.
    """

    due: datetime | None = None
    warn_at: datetime | None = None
    met_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    started_at: datetime | None = None
    minutes_taken: float = 0.0


class SlaNotification(_Model):
    """A warning or breach notice waiting to go out (or gone), kept on the ticket as an outbox.

    `not_before` defers it to working hours where the policy says so; `claimed_at` is set by
    the one sweep that sends it.
    """

    id: str
    kind: str
    target: str
    channel: str
    destination: str
    secret: str = "default"
    not_before: datetime
    claimed_at: datetime | None = None
    delivered_at: datetime | None = None
    failure: str | None = None


class SlaMetrics(_Model):
    """Per-ticket figures for reports, as of the last refresh (minutes; None until known)."""

    first_response_business_minutes: float | None = None
    first_response_calendar_minutes: float | None = None
    replies: int = 0
    resolution_business_minutes: float | None = None
    resolution_calendar_minutes: float | None = None
    paused_business_minutes: float = 0.0
    paused_calendar_minutes: float = 0.0
    first_response_breached: bool = False
    next_response_breaches: int = 0
    resolution_breached: bool = False


class SlaState(_Model):
    policy_id: str | None = None
    first_response: SlaClock = Field(default_factory=SlaClock)
    next_response: SlaClock = Field(default_factory=SlaClock)
    resolution: SlaClock = Field(default_factory=SlaClock)
    paused_minutes: float = 0.0
    metrics: SlaMetrics = Field(default_factory=SlaMetrics)
    notifications: list[SlaNotification] = Field(default_factory=list)


class Triage(_Model):
    category: str | None = None
    category_confidence: float = 0.0
    priority_confidence: float = 0.0
    priority_reasons: list[str] = Field(default_factory=list)
    team_confidence: float = 0.0
    language: str | None = None
    sentiment: str | None = None
    summary: str | None = None
    provider: str | None = None
    similar: list[dict[str, Any]] = Field(default_factory=list)


class Ticket(_Model):
    number: int
    subject: str
    requester: str
    requester_name: str = ""
    reply_to: str | None = None
    assignee: str | None = None
    team: str | None = None
    priority: Priority = Priority.NORMAL
    status: Status = Status.OPEN
    channel: Channel = Channel.EMAIL
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None = None
    status_changed_at: datetime | None = None
    updated_by: str | None = None
    automation_due: datetime | None = None
    suspended: bool = False
    suspended_reason: str | None = None
    sla: SlaState = Field(default_factory=SlaState)
    triage: Triage | None = None
    duplicate_of: int | None = None
    incident_of: int | None = None
    incident_children: list[int] = Field(default_factory=list)
    ai_resolved: bool = False
    csat: int | None = None
    csat_comment: str | None = None
    version: int = 0

    @field_validator("requester")
    @classmethod
    def _normalise_requester(cls, value: str) -> str:
        return value.strip().lower()

    @property
    def status_category(self) -> StatusCategory:
        return self.status.category


class AuditEvent(_Model):
    """One change to a ticket: who did what, when, with the fields before and after."""

    ticket_number: int
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any] = Field(default_factory=dict)
    ai: bool = False
