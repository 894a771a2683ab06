"""The SLA function's wiring: its settings, its sweep built from real clients, its event."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import cache
from typing import Any

from helpdesk.data import clients
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.events import EventPublisher
from helpdesk.settings import EventSettings, MailSettings, TableSettings, load
from helpdesk.sla.notify import (
    MailIntentSender,
    MailNoticeSender,
    Notifier,
    Sender,
    WebhookSender,
)
from helpdesk.sla.service import SlaStore
from helpdesk.sla.sweep import SlaSweep

logger = logging.getLogger(__name__)

SCHEDULED_EVENT = "Scheduled Event"


class SlaSettings(TableSettings, EventSettings, MailSettings):
    """What the SLA function needs. `sla_webhook_secrets` is a JSON object of secret name to
    signing key (HELPDESK_SLA_WEBHOOK_SECRETS); `sla_sweep_limit` caps tickets per sweep."""

    sla_webhook_secrets: str = "{}"
    sla_sweep_limit: int = 500

    def secrets(self) -> dict[str, str]:
        """The webhook signing keys by name; raises ValueError for malformed JSON."""
        value = json.loads(self.sla_webhook_secrets)
        if not isinstance(value, dict):
            raise ValueError("HELPDESK_SLA_WEBHOOK_SECRETS must be a JSON object")
        return {str(name): str(key) for name, key in value.items()}


@cache
def sla_settings() -> SlaSettings:
    """The function's settings, read once; raises ConfigurationError naming a bad variable."""
    return load(SlaSettings)


def build_sweep(settings: SlaSettings) -> SlaSweep:
    """A sweep over the configured table, bus and webhooks, with the process's clients."""
    table = clients.table(settings.table)
    tickets = TicketRepository(table)
    mail: Sender = MailIntentSender()
    if settings.outbound_queue:
        from helpdesk.mail.outbound import OutboundQueue

        queue = OutboundQueue(clients.client("sqs"), settings.outbound_queue)
        mail = MailNoticeSender(tickets, queue, settings)
    notifier = Notifier({"webhook": WebhookSender(settings.secrets()), "email": mail})
    return SlaSweep(
        tickets,
        SlaStore(ConfigRepository(table)),
        notifier,
        EventPublisher(clients.client("events"), settings.event_bus),
        limit=settings.sla_sweep_limit,
    )


def handle_event(event: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """Run one sweep for an EventBridge scheduled event; any other detail-type is ignored.

    Returns what the sweep did (or `{"ignored": <detail-type>}`). Raises ConfigurationError
    when a setting is missing.
    """
    detail_type = event.get("detail-type")
    if detail_type != SCHEDULED_EVENT:
        logger.info("event ignored", extra={"detail_type": detail_type})
        return {"ignored": detail_type}
    report = build_sweep(sla_settings()).run(now=now)
    return report.as_dict()
