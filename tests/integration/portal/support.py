"""Helpers for the portal API tests: the real function module and a desk that acts as people do."""

from __future__ import annotations

import importlib.util
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
from chalice.test import Client

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Channel,
    Direction,
    Message,
    MessageKind,
    Priority,
    Status,
    Ticket,
)
from helpdesk_tools.local.outbox import read_outbox

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "webhook-test-secret"
SESSION_SECRET = "session-test-secret"


def load_portal_function() -> Any:
    """functions/portal/app.py as the Lambda runtime loads it (a module named `app`)."""
    spec = importlib.util.spec_from_file_location(
        "portal_function_app", ROOT / "functions" / "portal" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Desk:
    """The portal app on a fresh stack, with helpers that act as people would."""

    client: Client
    table: Any
    aws: boto3.session.Session
    endpoint: str
    stack: Any
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.table)

    @property
    def config(self) -> ConfigRepository:
        return ConfigRepository(self.table)

    # -- people ---------------------------------------------------------------------------

    def agent(self, agent_id: str) -> dict[str, str]:
        """Authorization headers for an agent, signed in through the dev login."""
        if agent_id not in self.tokens:
            response = self.post("/api/auth/dev-login", {"agent_id": agent_id})
            assert response.status_code == 200, response.body
            self.tokens[agent_id] = response.json_body["token"]
        return {"Authorization": f"Bearer {self.tokens[agent_id]}"}

    def link_token(self, email: str) -> str:
        """Ask for a sign-in link and read its token from the mail in the outbox."""
        response = self.post("/api/auth/link", {"email": email})
        assert response.status_code == 202, response.body
        mails = [mail for mail in read_outbox(self.endpoint) if email in mail.destinations]
        found = re.search(r"\?login=(\S+)", mails[-1].text)
        assert found, mails[-1].text
        return unquote(found.group(1))

    def customer(self, email: str) -> dict[str, str]:
        """Authorization headers for a customer, signed in through a mailed link."""
        key = f"customer:{email}"
        if key not in self.tokens:
            response = self.post("/api/auth/session", {"token": self.link_token(email)})
            assert response.status_code == 200, response.body
            self.tokens[key] = response.json_body["token"]
        return {"Authorization": f"Bearer {self.tokens[key]}"}

    # -- requests -------------------------------------------------------------------------

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.get(path, headers=headers or {})

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("post", path, body, headers)

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("put", path, body, headers)

    def patch(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._send("patch", path, body, headers)

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.delete(path, headers=headers or {})

    def _send(self, method: str, path: str, body: Any, headers: dict[str, str] | None) -> Any:
        import json

        data = b"" if body is None else json.dumps(body).encode()
        return getattr(self.client.http, method)(
            path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )

    # -- data -----------------------------------------------------------------------------

    def ticket(
        self,
        requester: str,
        *,
        subject: str = "The printer is on fire",
        text: str = "It smokes since this morning.",
        html: str | None = None,
        channel: Channel = Channel.EMAIL,
        team: str | None = "support",
        priority: Priority = Priority.NORMAL,
        status: Status = Status.OPEN,
        tags: list[str] | None = None,
        at: datetime | None = None,
    ) -> Ticket:
        """A stored ticket with its first customer message, as ingest would write it."""
        now = at or datetime.now(UTC)
        number = self.tickets.next_number()
        ticket = Ticket(
            number=number,
            subject=subject,
            requester=requester,
            requester_name=requester.split("@")[0].title(),
            channel=channel,
            team=team,
            priority=priority,
            status=status,
            tags=tags or [],
            created_at=now,
            updated_at=now,
        )
        message = Message(
            ticket_number=number,
            id=uuid.uuid4().hex[:16],
            created_at=now,
            direction=Direction.INBOUND,
            kind=MessageKind.PUBLIC_REPLY,
            author=requester,
            text=text,
            visible_text=text,
            html=html,
            message_id=f"<{uuid.uuid4().hex}@customer.example>"
            if channel == Channel.EMAIL
            else None,
        )
        event = AuditEvent(ticket_number=number, at=now, actor=requester, action="created")
        return self.tickets.create(ticket, message, event)
