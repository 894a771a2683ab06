"""The portal's use of the SLA hook (helpdesk.sla.hook): clocks are recomputed before a reply,
a customer message, a status or a priority change is saved, in the same write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from helpdesk.domain.models import AuditEvent, Message, Ticket
from helpdesk.sla.hook import refreshed as _refreshed


def refreshed(
    portal: Any,
    ticket: Ticket,
    new_messages: Sequence[Message],
    new_events: Sequence[AuditEvent],
    *,
    now: datetime,
    existing: bool = True,
) -> Ticket:
    """`ticket` with its SLA state recomputed (see helpdesk.sla.hook.refreshed)."""
    return _refreshed(
        portal.tickets, portal.config, ticket, new_messages, new_events, now=now, existing=existing
    )
