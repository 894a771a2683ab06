"""An agent sees which attachments a mail brought that were not stored, and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    SkippedAttachment,
    Ticket,
)
from tests.integration.portal.support import Desk


def test_the_ticket_detail_lists_skipped_attachments_with_their_reason(desk: Desk) -> None:
    now = datetime.now(UTC)
    number = desk.tickets.next_number()
    ticket = Ticket(
        number=number,
        subject="Logs attached",
        requester="ann@x.example",
        team="support",
        created_at=now,
        updated_at=now,
    )
    message = Message(
        ticket_number=number,
        id=uuid.uuid4().hex[:16],
        created_at=now,
        direction=Direction.INBOUND,
        author="ann@x.example",
        text="Logs attached.\n\n> earlier quoted mail",
        visible_text="Logs attached.",
        skipped=[
            SkippedAttachment(
                filename="big.bin",
                content_type="application/octet-stream",
                size=25_000_000,
                reason="larger than 10485760 bytes",
            )
        ],
    )
    desk.tickets.create(
        ticket, message, AuditEvent(ticket_number=number, at=now, actor="x", action="created")
    )

    body = desk.get(f"/api/agent/tickets/{number}", headers=desk.agent("bob")).json_body

    [shown] = body["messages"]
    assert shown["skipped"] == [
        {
            "filename": "big.bin",
            "content_type": "application/octet-stream",
            "size": 25_000_000,
            "reason": "larger than 10485760 bytes",
        }
    ]
    assert shown["text"] == "Logs attached."
    assert shown["full_text"].endswith("> earlier quoted mail")
