"""The agent workspace's ticket actions: detail, changes, replies, notes, merges, macros,
canned responses, presence and attachment downloads.

Each change goes through helpdesk.domain.transitions (one audit event per change) and is
written with the version the agent read, so a stale screen gets a 409 instead of overwriting
someone else's work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from helpdesk.data.tickets import Thread
from helpdesk.domain import transitions
from helpdesk.domain.models import (
    AuditEvent,
    Channel,
    DeliveryState,
    Direction,
    Message,
    MessageKind,
    Status,
    Team,
    Ticket,
)
from helpdesk.exceptions import ConflictError, NotFoundError, SendThrottledError, ValidationError
from helpdesk.mail.outbound import OutboundQueue, SendJob, build_outbound
from helpdesk.portal.auth import AgentPrincipal
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import (
    ActionResult,
    CannedResponse,
    DownloadLink,
    Macro,
    MacroChanges,
    PresenceList,
    PresenceView,
    Related,
    TicketChange,
    TicketDetail,
)
from helpdesk.portal.services import placeholders, sla
from helpdesk.portal.store import Presence
from helpdesk.portal.views import event_view, message_view, safe_html, ticket_view

logger = logging.getLogger(__name__)

DOWNLOAD_SECONDS = 300


@dataclass
class Draft:
    """A ticket being changed: the version read, the changed copy, and what to write."""

    before: Ticket
    after: Ticket
    events: list[AuditEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    mail: list[Message] = field(default_factory=list)
    touched_sla: bool = False

    def apply(self, change: tuple[Ticket, AuditEvent]) -> None:
        self.after, event = change
        self.events.append(event)


def check_version(ticket: Ticket, expected: int | None) -> None:
    """Raises ConflictError when the caller read an older version than the stored one."""
    if expected is not None and expected != ticket.version:
        raise ConflictError(
            f"ticket {ticket.number} changed since you read it (version {expected}, now "
            f"{ticket.version}); reload it"
        )


def expected_version(body_version: int | None, headers: Any, *, required: bool) -> int | None:
    """The version from the body or an If-Match header; raises ValidationError when
    `required` and neither is given or the header is not a number."""
    if body_version is not None:
        return body_version
    header = (headers.get("if-match") or "").strip().strip('"').removeprefix("W/").strip('"')
    if header:
        if not header.isdigit():
            raise ValidationError("If-Match must be the ticket's version number", field="version")
        return int(header)
    if required:
        raise ValidationError("send the version you read (field or If-Match)", field="version")
    return None


class Desk:
    """Ticket actions for one signed-in agent at one instant."""

    def __init__(self, portal: Portal, agent: AgentPrincipal, now: datetime) -> None:
        self._portal = portal
        self._agent = agent
        self._now = now

    # -- reads ----------------------------------------------------------------------------

    def detail(self, number: int) -> TicketDetail:
        """The ticket with its thread and audit trail; raises NotFoundError."""
        thread = self._portal.tickets.thread(number)
        ticket = thread.ticket
        related = Related(
            duplicates=list(ticket.triage.similar) if ticket.triage else [],
            incident=ticket.incident_of,
            incident_children=list(ticket.incident_children),
        )
        return TicketDetail(
            ticket=ticket_view(ticket, self._now),
            messages=[message_view(message) for message in thread.messages],
            events=[event_view(event) for event in thread.events],
            related=related,
        )

    # -- changes --------------------------------------------------------------------------

    def change(self, number: int, change: TicketChange, version: int | None) -> ActionResult:
        """Apply field changes; raises ConflictError, IllegalTransitionError, NotFoundError."""
        draft = self._draft(number, version)
        self._apply_changes(
            draft,
            MacroChanges(
                status=change.status,
                priority=change.priority,
                team=change.team,
                category=change.category,
                assignee=change.assignee,
                unassign=change.unassign,
            ),
            tags=change.tags,
        )
        return self._commit(draft)

    def reply(
        self,
        number: int,
        text: str,
        *,
        html: str | None = None,
        status: Status | None = None,
        version: int | None = None,
    ) -> ActionResult:
        """A public reply (queued as mail for email tickets), with an optional status."""
        draft = self._draft(number, version)
        message = self._add_reply(draft, text, html)
        if status is not None and status != draft.after.status:
            draft.apply(
                transitions.change_status(draft.after, status, now=self._now, actor=self._actor)
            )
        return self._commit(draft, message)

    def note(self, number: int, text: str, version: int | None = None) -> ActionResult:
        """An internal note, never shown to the customer."""
        draft = self._draft(number, version)
        message = self._add_note(draft, text)
        return self._commit(draft, message)

    def merge(self, number: int, into: int, version: int | None) -> ActionResult:
        """Close ticket `number` as a duplicate of `into`, with a system note on both."""
        if number == into:
            raise ValidationError("a ticket cannot be merged into itself", field="into")
        draft = self._draft(number, version)
        original = self._portal.tickets.get(into)
        draft.apply(
            transitions.mark_duplicate(draft.after, original, now=self._now, actor=self._actor)
        )
        note = self._system_note(number, f"Merged into ticket #{into} by {self._agent.name}.")
        draft.messages.append(note)
        result = self._commit(draft, note)
        self._note_on(into, f"Ticket #{number} was merged into this ticket by {self._agent.name}.")
        return result

    def apply_macro(self, number: int, macro_id: str, version: int | None) -> ActionResult:
        """The macro's changes and optional reply or note, written in one step."""
        macro = self._portal.config.get("macros", macro_id, Macro)
        draft = self._draft(number, version)
        message = None
        if macro.reply:
            text = self._render(macro.reply, draft.after)
            if macro.reply_kind == "note":
                message = self._add_note(draft, text)
            else:
                message = self._add_reply(draft, text, None)
        self._apply_changes(draft, macro.changes)
        draft.events.append(
            AuditEvent(
                ticket_number=number,
                at=self._now,
                actor=self._actor,
                action="macro_applied",
                changes={"macro": macro.id},
            )
        )
        return self._commit(draft, message)

    def render_canned(self, number: int, canned_id: str) -> str:
        """A canned response filled in for this ticket (not sent)."""
        canned = self._portal.config.get("canned-responses", canned_id, CannedResponse)
        return self._render(canned.text, self._portal.tickets.get(number))

    # -- presence -------------------------------------------------------------------------

    def touch_presence(self, number: int, activity: str) -> PresenceList:
        self._portal.tickets.get(number)
        self._portal.store.touch_presence(
            number,
            Presence(self._agent.id, self._agent.name, activity, self._now),
            ttl_seconds=self._portal.settings.presence_ttl_seconds,
        )
        return self.presence(number)

    def presence(self, number: int) -> PresenceList:
        """The other agents viewing or replying to the ticket right now."""
        others = [
            PresenceView(
                agent_id=seen.agent_id, name=seen.name, activity=seen.activity, seen_at=seen.seen_at
            )
            for seen in self._portal.store.presence(number, now=self._now)
            if seen.agent_id != self._agent.id
        ]
        return PresenceList(others=others)

    def attachment(self, number: int, message_id: str, index: int) -> DownloadLink:
        thread = self._portal.tickets.thread(number)
        return download_link(self._portal, thread, message_id, index, public_only=False)

    # -- steps ----------------------------------------------------------------------------

    @property
    def _actor(self) -> str:
        return self._agent.id

    def _draft(self, number: int, version: int | None) -> Draft:
        ticket = self._portal.tickets.get(number)
        check_version(ticket, version)
        return Draft(before=ticket, after=ticket)

    def _apply_changes(
        self, draft: Draft, changes: MacroChanges, *, tags: list[str] | None = None
    ) -> None:
        now, actor = self._now, self._actor
        if changes.status is not None and changes.status != draft.after.status:
            draft.apply(
                transitions.change_status(draft.after, changes.status, now=now, actor=actor)
            )
            draft.touched_sla = True
        if changes.priority is not None and changes.priority != draft.after.priority:
            draft.apply(
                transitions.change_priority(draft.after, changes.priority, now=now, actor=actor)
            )
            draft.touched_sla = True
        if changes.team is not None and changes.team != draft.after.team:
            self._known_team(changes.team)
            draft.apply(
                transitions.set_fields(
                    draft.after, now=now, actor=actor, action="team_changed", team=changes.team
                )
            )
        if changes.category is not None and changes.category != draft.after.category:
            draft.apply(
                transitions.set_fields(
                    draft.after,
                    now=now,
                    actor=actor,
                    action="category_changed",
                    category=changes.category,
                )
            )
        new_tags = _tags(draft.after.tags, tags, changes.add_tags, changes.remove_tags)
        if new_tags != draft.after.tags:
            draft.apply(
                transitions.set_fields(
                    draft.after, now=now, actor=actor, action="tags_changed", tags=new_tags
                )
            )
        if changes.unassign and draft.after.assignee is not None:
            draft.apply(transitions.assign(draft.after, None, now=now, actor=actor))
        elif changes.assignee is not None and changes.assignee != draft.after.assignee:
            draft.apply(transitions.assign(draft.after, changes.assignee, now=now, actor=actor))

    def _add_reply(self, draft: Draft, text: str, html: str | None) -> Message:
        ticket = draft.after
        clean_html = safe_html(html)
        if ticket.status == Status.CLOSED:
            raise ValidationError("a closed ticket cannot get a reply", field="text")
        if ticket.channel == Channel.EMAIL:
            thread = self._portal.tickets.thread(ticket.number)
            message = build_outbound(
                ticket,
                thread.messages,
                text=text,
                author=self._agent.id,
                now=self._now,
                domain=self._portal.settings.mail_domain,
                html=clean_html,
            )
            draft.mail.append(message)
        else:
            message = Message(
                ticket_number=ticket.number,
                id=uuid.uuid4().hex[:16],
                created_at=self._now,
                direction=Direction.OUTBOUND,
                kind=MessageKind.PUBLIC_REPLY,
                author=self._agent.id,
                text=text,
                visible_text=text,
                html=clean_html,
            )
        draft.messages.append(message)
        draft.events.append(
            AuditEvent(
                ticket_number=ticket.number,
                at=self._now,
                actor=self._actor,
                action="replied",
                changes={"message": message.id, "channel": ticket.channel.value},
            )
        )
        draft.after = draft.after.model_copy(update={"updated_at": self._now})
        draft.touched_sla = True
        return message

    def _add_note(self, draft: Draft, text: str) -> Message:
        message = Message(
            ticket_number=draft.after.number,
            id=uuid.uuid4().hex[:16],
            created_at=self._now,
            direction=Direction.INTERNAL,
            kind=MessageKind.INTERNAL_NOTE,
            author=self._agent.id,
            text=text,
            visible_text=text,
        )
        draft.messages.append(message)
        draft.events.append(
            AuditEvent(
                ticket_number=draft.after.number,
                at=self._now,
                actor=self._actor,
                action="note_added",
                changes={"message": message.id},
            )
        )
        draft.after = draft.after.model_copy(update={"updated_at": self._now})
        return message

    def _system_note(self, number: int, text: str) -> Message:
        return Message(
            ticket_number=number,
            id=uuid.uuid4().hex[:16],
            created_at=self._now,
            direction=Direction.INTERNAL,
            kind=MessageKind.SYSTEM,
            author=self._actor,
            text=text,
            visible_text=text,
        )

    def _note_on(self, number: int, text: str) -> None:
        """A system note on another ticket, retried when that ticket is changing."""
        for _ in range(3):
            ticket = self._portal.tickets.get(number)
            after = ticket.model_copy(update={"updated_at": self._now})
            try:
                self._portal.tickets.save(ticket, after, [], [self._system_note(number, text)])
                return
            except ConflictError:
                continue
        logger.warning("merge note not written", extra={"ticket_number": number})

    def _commit(self, draft: Draft, message: Message | None = None) -> ActionResult:
        if not draft.events and not draft.messages:
            return ActionResult(ticket=ticket_view(draft.before, self._now))
        if draft.touched_sla:
            draft.after = sla.refreshed(
                self._portal, draft.after, draft.messages, draft.events, now=self._now
            )
        stored = self._portal.tickets.save(draft.before, draft.after, draft.events, draft.messages)
        for mail in draft.mail:
            sent = self._queue_mail(mail)
            if message is not None and message.id == mail.id:
                message = sent
        logger.info(
            "ticket changed",
            extra={"ticket_number": stored.number, "actions": [e.action for e in draft.events]},
        )
        return ActionResult(
            ticket=ticket_view(stored, self._now),
            message=message_view(message) if message is not None else None,
        )

    def _queue_mail(self, message: Message) -> Message:
        queue_url = self._portal.settings.outbound_queue
        if not queue_url:
            logger.warning("no outbound queue configured; reply left queued")
            return message
        assert message.message_id is not None
        queue = OutboundQueue(self._portal.client("sqs"), queue_url)
        try:
            queue.put(SendJob(ticket_number=message.ticket_number, message_id=message.message_id))
        except SendThrottledError:
            failed = message.model_copy(
                update={"delivery_state": DeliveryState.FAILED, "delivery_detail": "not queued"}
            )
            self._portal.tickets.update_message(failed)
            logger.warning("reply not queued", extra={"ticket_number": message.ticket_number})
            return failed
        return message

    def _render(self, template: str, ticket: Ticket) -> str:
        team_name = None
        if ticket.team:
            try:
                team_name = self._portal.config.get("teams", ticket.team, Team).name
            except NotFoundError:
                team_name = ticket.team
        return placeholders.render(
            template,
            ticket,
            agent_name=self._agent.name,
            agent_email=self._agent.email,
            team_name=team_name,
        )

    def _known_team(self, team: str) -> None:
        try:
            self._portal.config.get("teams", team, Team)
        except NotFoundError as error:
            raise ValidationError(f"there is no team {team}", field="team") from error


def _tags(
    current: list[str], replace: list[str] | None, add: list[str], remove: list[str]
) -> list[str]:
    tags = list(
        dict.fromkeys(
            tag.strip().lower()
            for tag in (replace if replace is not None else current)
            if tag.strip()
        )
    )
    for tag in add:
        tag = tag.strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    return [tag for tag in tags if tag not in {t.strip().lower() for t in remove}]


def download_link(
    portal: Portal, thread: Thread, message_id: str, index: int, *, public_only: bool
) -> DownloadLink:
    """A short-lived URL for one attachment; raises NotFoundError when the message, the
    attachment or (for customers) its visibility is missing."""
    from helpdesk.portal.views import is_public

    for message in thread.messages:
        if message.id != message_id or (public_only and not is_public(message)):
            continue
        if index >= len(message.attachments) or message.attachments[index].key is None:
            break
        attachment = message.attachments[index]
        url = portal.client("s3").generate_presigned_url(
            "get_object",
            Params={
                "Bucket": portal.settings.attachment_bucket,
                "Key": attachment.key,
                "ResponseContentDisposition": "attachment",
                "ResponseContentType": "application/octet-stream",
            },
            ExpiresIn=DOWNLOAD_SECONDS,
        )
        return DownloadLink(
            url=url, filename=attachment.filename, content_type=attachment.content_type
        )
    raise NotFoundError("no such attachment")
