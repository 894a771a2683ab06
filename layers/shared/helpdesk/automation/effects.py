"""Carrying out the side effects of rules: canned replies, notifications and webhook calls."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from helpdesk.automation.rules import Effect
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import Ticket
from helpdesk.events import EventPublisher
from helpdesk.exceptions import NotFoundError
from helpdesk.mail.outbound import OutboundQueue, queue_notice, queue_reply
from helpdesk.settings import MailSettings
from helpdesk.sla.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

logger = logging.getLogger(__name__)

WEBHOOK_ATTEMPTS = 3


class _CannedText(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str


def render(text: str, ticket: Ticket) -> str:
    """Fill a canned text's placeholders from the ticket."""
    values = {
        "{{ticket.number}}": str(ticket.number),
        "{{ticket.subject}}": ticket.subject,
        "{{ticket.status}}": ticket.status.value,
        "{{requester.name}}": ticket.requester_name or ticket.requester,
        "{{requester.email}}": ticket.requester,
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


class DeskEffects:
    """Runs effects against the desk: mail through the outbound queue, notices as internal
    notes plus a domain event, webhooks signed with the desk's shared secret."""

    def __init__(
        self,
        table: Any,
        queue: OutboundQueue,
        settings: MailSettings,
        events: EventPublisher,
        *,
        webhook_secret: str,
    ) -> None:
        self._table = table
        self._tickets = TicketRepository(table)
        self._config = ConfigRepository(table)
        self._queue = queue
        self._settings = settings
        self._events = events
        self._secret = webhook_secret

    def run(self, effect: Effect, ticket: Ticket, *, now: datetime) -> None:
        """Carry out one effect; a webhook that keeps failing is logged, never raised."""
        action = effect.action
        if action.type == "canned_reply":
            self._canned_reply(effect, ticket, now=now)
        elif action.type == "notify":
            self._notify(effect, ticket, now=now)
        elif action.type == "webhook":
            self._webhook(effect, ticket, now=now)

    def _canned_reply(self, effect: Effect, ticket: Ticket, *, now: datetime) -> None:
        try:
            canned = self._config.get(
                "canned-responses", effect.action.canned_id or "", _CannedText
            )
        except NotFoundError:
            logger.warning("canned response missing", extra={"rule": effect.rule_id})
            return
        queue_reply(
            self._tickets,
            self._queue,
            self._settings,
            ticket_number=ticket.number,
            text=render(canned.text, ticket),
            author=f"rule:{effect.rule_id}",
            now=now,
        )

    def _notify(self, effect: Effect, ticket: Ticket, *, now: datetime) -> None:
        """Mail the rule's addressee an internal notice (never the customer), and publish it."""
        text = render(effect.action.message or f"Ticket #{ticket.number} needs attention.", ticket)
        if effect.action.to:
            queue_notice(
                self._tickets,
                self._queue,
                self._settings,
                ticket_number=ticket.number,
                to=effect.action.to,
                text=text,
                author=f"rule:{effect.rule_id}",
                now=now,
            )
        self._events.publish(
            "rule.notify",
            {"ticket_number": ticket.number, "rule": effect.rule_id, "to": effect.action.to},
            now=now,
        )

    def _webhook(self, effect: Effect, ticket: Ticket, *, now: datetime) -> None:
        body = json.dumps(
            {
                "rule": effect.rule_id,
                "ticket": {
                    "number": ticket.number,
                    "subject": ticket.subject,
                    "status": ticket.status.value,
                    "priority": ticket.priority.value,
                    "team": ticket.team,
                },
                "at": now.isoformat(),
            },
            sort_keys=True,
        ).encode()
        for attempt in range(WEBHOOK_ATTEMPTS):
            timestamp = int(time.time())
            request = urllib.request.Request(  # noqa: S310 - the rule's configured URL
                effect.action.url or "",
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    TIMESTAMP_HEADER: str(timestamp),
                    SIGNATURE_HEADER: sign(self._secret, timestamp, body),
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    if 200 <= response.status < 300:
                        return
            except (urllib.error.URLError, TimeoutError, OSError, ValueError):
                logger.debug("rule webhook attempt failed", extra={"attempt": attempt + 1})
            time.sleep(0.2 * 2**attempt)
        logger.warning("rule webhook gave up", extra={"rule": effect.rule_id})
