"""The automation processor with the real clients, built once per process."""

from __future__ import annotations

from functools import lru_cache

from helpdesk.automation.effects import DeskEffects
from helpdesk.automation.stream import AutomationProcessor
from helpdesk.data import clients
from helpdesk.events import EventPublisher
from helpdesk.mail.outbound import OutboundQueue
from helpdesk.settings import automation_settings


@lru_cache(maxsize=1)
def default_processor() -> AutomationProcessor:
    """Built from AutomationSettings on first use; raises ConfigurationError naming a missing
    variable."""
    settings = automation_settings()
    table = clients.table(settings.table)
    effects = DeskEffects(
        table,
        OutboundQueue(clients.client("sqs"), settings.outbound_queue),
        settings,
        EventPublisher(clients.client("events"), settings.event_bus),
        webhook_secret=settings.webhook_secret,
    )
    return AutomationProcessor(table, effects)
