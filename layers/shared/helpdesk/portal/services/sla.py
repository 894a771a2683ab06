"""The hook into the SLA service (helpdesk.sla.service): a ticket's clocks are recomputed from
its history before a reply, a customer message, a status or a priority change is saved, in
the same write.

The SLA package is imported on the first change that needs it, not at cold start (its
holiday tables are heavy).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from helpdesk.domain.models import AuditEvent, Message, Ticket

logger = logging.getLogger(__name__)


def refreshed(
    portal: Any,
    ticket: Ticket,
    new_messages: Sequence[Message],
    new_events: Sequence[AuditEvent],
    *,
    now: datetime,
    existing: bool = True,
) -> Ticket:
    """`ticket` with its SLA state recomputed from the stored thread plus the new messages
    and events (for a new ticket, `existing=False`: from those alone).

    A failure is logged and the ticket returned unchanged: a clock that could not be
    recomputed must not refuse the agent's or the customer's change; the sweep catches up.
    """
    try:
        from helpdesk.sla.service import SlaStore, refresh_ticket
    except ImportError:
        logger.warning("sla service unavailable; clocks not refreshed")
        return ticket
    try:
        messages: list[Message] = []
        events: list[AuditEvent] = []
        if existing:
            thread = portal.tickets.thread(ticket.number)
            messages, events = list(thread.messages), list(thread.events)
        rules = SlaStore(portal.config).rules()
        return refresh_ticket(
            ticket, [*messages, *new_messages], [*events, *new_events], rules, now=now
        )
    except Exception:  # a failed refresh must not undo the change itself
        logger.exception("sla refresh failed", extra={"ticket_number": ticket.number})
        return ticket
