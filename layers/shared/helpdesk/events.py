"""Domain events: what happened to a ticket, published to the desk's EventBridge bus."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

logger = logging.getLogger(__name__)

SOURCE = "helpdesk"


class EventPublisher:
    """Publishes domain events. Takes a boto3 EventBridge client and the bus name."""

    def __init__(self, client: Any, bus: str) -> None:
        self._client = client
        self._bus = bus

    def publish(self, detail_type: str, detail: dict[str, Any], *, now: datetime) -> None:
        """Put one event on the bus; a failed entry is logged, never raised to the caller."""
        response = self._client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self._bus,
                    "Time": now,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            logger.warning("domain event not published", extra={"detail_type": detail_type})
