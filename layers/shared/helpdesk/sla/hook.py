"""The one hook every writer calls: a ticket's clocks recomputed from its history before a
change is saved, in the same write (mail ingest, the portal, the chat webhook).

The SLA package's heavy parts (holiday tables) load on the first call, not at cold start.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Message, Ticket

logger = logging.getLogger(__name__)


def refreshed(
    tickets: TicketRepository,
    config: ConfigRepository,
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
    recomputed must not refuse the change itself; the sweep and the next change catch up.
    """
    try:
        from helpdesk.sla.service import SlaStore, refresh_ticket

        messages: list[Message] = []
        events: list[AuditEvent] = []
        if existing:
            thread = tickets.thread(ticket.number)
            messages, events = list(thread.messages), list(thread.events)
        rules = SlaStore(config).rules()
        return refresh_ticket(
            ticket, [*messages, *new_messages], [*events, *new_events], rules, now=now
        )
    except Exception:  # a failed refresh must not undo the change itself
        logger.exception("sla refresh failed", extra={"ticket_number": ticket.number})
        return ticket
