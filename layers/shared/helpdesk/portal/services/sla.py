"""The hook into the SLA service after a reply, a status or a priority change."""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)


def refresh(portal: Any, ticket_number: int, *, now: datetime) -> None:
    """Ask the SLA service to recompute the ticket's clocks; never fails the request.

    NOTE: the SLA service (issue 4) is built alongside the portal; until its module offers
    `refresh`, the ticket's clocks are left as they are and the sweep catches up.
    """
    try:
        service = importlib.import_module("helpdesk.sla.service")
    except ImportError:
        return
    function = getattr(service, "refresh", None)
    if function is None:
        return
    try:
        function(portal.tickets, portal.config, ticket_number, now=now)
    except Exception:  # a failed refresh must not undo the agent's change
        logger.exception("sla refresh failed", extra={"ticket_number": ticket_number})
