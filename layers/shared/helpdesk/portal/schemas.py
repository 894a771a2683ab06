"""Request and response bodies of the portal API, and the settings that admins manage."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator

from helpdesk.domain.models import (
    Attachment,
    Channel,
    DeliveryState,
    Direction,
    MessageKind,
    Priority,
    SkippedAttachment,
    Status,
)

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
MAX_TEXT = 100_000
MAX_SUBJECT = 300


class Body(BaseModel):
    """A request body: unknown fields are refused by name."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError("use letters, digits, and . _ @ - (at most 128)")
    return value


# -- admin-managed settings ----------------------------------------------------------------


class Category(Body):
    id: str
    name: str
    team: str | None = None
    description: str = ""


class RoutingRule(Body):
    """Send matching new tickets to a team (and optionally set the priority)."""

    id: str
    order: int = 100
    category: str | None = None
    channel: Channel | None = None
    requester_domain: str | None = None
    subject_contains: str | None = None
    team: str
    priority: Priority | None = None


class CannedResponse(Body):
    id: str
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    team: str | None = None


class MacroChanges(Body):
    status: Status | None = None
    priority: Priority | None = None
    team: str | None = None
    category: str | None = None
    assignee: str | None = None
    unassign: bool = False
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)


class Macro(Body):
    id: str
    name: str = Field(min_length=1, max_length=200)
    changes: MacroChanges = Field(default_factory=MacroChanges)
    reply: str | None = Field(default=None, max_length=MAX_TEXT)
    reply_kind: Literal["public", "note"] = "public"


class Webhook(Body):
    id: str
    url: str
    events: list[str] = Field(default_factory=list)
    active: bool = True

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("a webhook URL must use https")
        return value


class Branding(Body):
    id: str = "default"
    brand_name: str = "Help Centre"
    primary_colour: str = Field(default="#1f5fbf", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_colour: str = Field(default="#f2a900", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: str | None = None


# -- auth ----------------------------------------------------------------------------------


class DevLoginRequest(Body):
    agent_id: str


class AgentView(Out):
    id: str
    email: str
    name: str
    role: str
    teams: list[str] = Field(default_factory=list)


class DevLoginResponse(Out):
    token: str
    expires_at: datetime
    agent: AgentView


class LinkRequest(Body):
    email: str = Field(max_length=320)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise ValueError("not an email address")
        return value


class LinkResponse(Out):
    sent: bool


class SessionRequest(Body):
    token: str = Field(max_length=4096)


class SessionResponse(Out):
    email: str
    expires_at: datetime
    token: str


class Me(Out):
    kind: Literal["agent", "customer"]
    id: str
    email: str
    name: str
    roles: list[str] = Field(default_factory=list)


# -- tickets -------------------------------------------------------------------------------

SlaStateName = Literal["ok", "warning", "breached", "paused", "none"]


class TicketSummary(Out):
    number: int
    subject: str
    requester: str
    requester_name: str
    status: Status
    priority: Priority
    team: str | None
    assignee: str | None
    category: str | None
    channel: Channel
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    due: datetime | None
    sla_state: SlaStateName
    duplicate_of: int | None
    incident_of: int | None
    version: int


class QueuePage(Out):
    tickets: list[TicketSummary]
    cursor: str | None


class MessageView(Out):
    id: str
    created_at: datetime
    direction: Direction
    kind: MessageKind
    author: str
    text: str
    html: str | None
    attachments: list[Attachment]
    skipped: list[SkippedAttachment] = Field(default_factory=list)
    full_text: str = ""
    delivery_state: DeliveryState | None
    ai_generated: bool


class EventView(Out):
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]


class TicketView(Out):
    """The full ticket as agents see it."""

    number: int
    subject: str
    requester: str
    requester_name: str
    status: Status
    priority: Priority
    team: str | None
    assignee: str | None
    category: str | None
    channel: Channel
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    due: datetime | None
    sla_state: SlaStateName
    sla: dict[str, Any]
    triage: dict[str, Any] | None
    duplicate_of: int | None
    incident_of: int | None
    incident_children: list[int]
    csat: int | None
    csat_comment: str | None
    version: int


class Related(Out):
    duplicates: list[dict[str, Any]] = Field(default_factory=list)
    incident: int | None = None
    incident_children: list[int] = Field(default_factory=list)


class TicketDetail(Out):
    ticket: TicketView
    messages: list[MessageView]
    events: list[EventView]
    related: Related


class TicketChange(Body):
    """Fields to change; `version` is the one read (or send If-Match)."""

    version: int | None = None
    status: Status | None = None
    priority: Priority | None = None
    team: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    assignee: str | None = None
    unassign: bool = False


class ReplyRequest(Body):
    version: int | None = None
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    html: str | None = Field(default=None, max_length=MAX_TEXT)
    status: Status | None = None


class NoteRequest(Body):
    version: int | None = None
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class MergeRequest(Body):
    into: int = Field(ge=1)
    version: int | None = None


class VersionOnly(Body):
    version: int | None = None


class ActionResult(Out):
    ticket: TicketView
    message: MessageView | None = None


class RenderedText(Out):
    text: str


class PresenceRequest(Body):
    activity: Literal["viewing", "replying"] = "viewing"


class PresenceView(Out):
    agent_id: str
    name: str
    activity: str
    seen_at: datetime


class PresenceList(Out):
    others: list[PresenceView]


class DownloadLink(Out):
    url: str
    filename: str
    content_type: str


class Items(Out):
    items: list[dict[str, Any]]


class Directory(Out):
    teams: list[dict[str, Any]]
    agents: list[AgentView]
    categories: list[dict[str, Any]]


class QueueQuery(Body):
    team: str | None = None
    status: str = "open"
    priority: str | None = None
    assignee: str | None = None
    category: str | None = None
    sla: str | None = None
    channel: str | None = None
    tag: str | None = None
    q: str | None = Field(default=None, max_length=200)
    sort: Literal["created", "updated", "due", "priority"] = "created"
    order: Literal["asc", "desc"] | None = None
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=4096)


# -- customers -----------------------------------------------------------------------------


class PortalConfig(Out):
    brand_name: str
    primary_colour: str
    accent_colour: str
    logo_url: str | None


class Suggestion(Out):
    id: str
    title: str
    url: str
    excerpt: str


class Suggestions(Out):
    articles: list[Suggestion]


class SuggestionQuery(Body):
    q: str = Field(default="", max_length=300)


class PortalListQuery(Body):
    scope: Literal["mine", "organisation"] = "mine"
    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=4096)


class PortalTicket(Out):
    number: int
    subject: str
    requester: str
    status: Status
    channel: Channel
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    csat: int | None
    csat_comment: str | None


class PortalPage(Out):
    tickets: list[PortalTicket]
    cursor: str | None


class PortalMessage(Out):
    id: str
    created_at: datetime
    from_customer: bool
    author_name: str
    text: str
    html: str | None
    attachments: list[Attachment]


class PortalDetail(Out):
    ticket: PortalTicket
    messages: list[PortalMessage]


class NewTicket(Body):
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=128)
    attachments: list[str] = Field(default_factory=list, max_length=20)


class CustomerReply(Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    attachments: list[str] = Field(default_factory=list, max_length=20)


class PortalAction(Out):
    ticket: PortalTicket
    message: PortalMessage | None = None


class Rating(Body):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=5000)


class UploadRequest(Body):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=1)


class UploadTicket(Out):
    key: str
    url: str
    fields: dict[str, str]
    max_bytes: int
    expires_at: datetime


# -- webhooks and meta ---------------------------------------------------------------------


class ChatSender(Body):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return LinkRequest._email(value)


class ChatMessage(Body):
    conversation_id: str = Field(min_length=1, max_length=256)
    sender: ChatSender = Field(alias="from")
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    source: str = Field(default="chat", max_length=64)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("conversation_id", "source")
    @classmethod
    def _ids(cls, value: str) -> str:
        return _identifier(value)


class ChatResult(Out):
    ticket_number: int
    created: bool


class Health(Out):
    ok: bool


class AnyObject(RootModel[dict[str, Any]]):
    """A JSON object validated later by the model its route names (admin settings)."""
