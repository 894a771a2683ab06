"""Fixtures for the KB integration tests: a KB with articles, the responder, a Messages stub."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from helpdesk.ai.embed import OnnxEmbedder, shared_onnx_embedder
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Channel, Direction, Message, Ticket
from helpdesk.kb.answer import LocalAnswerer
from helpdesk.kb.confirm import AnswerRecords
from helpdesk.kb.models import ArticleDraft, Visibility
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.responder import ResponderPolicy, ResponderService
from helpdesk.kb.service import KnowledgeBase
from helpdesk.kb.settings import KbSettings
from helpdesk.settings import MailSettings

WRITTEN = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
OPENED = datetime(2026, 2, 3, 9, 59, tzinfo=UTC)

ARTICLES = {
    "reset-password": (
        "How to reset your password",
        "If you forgot your password, click **Forgot password** on the sign-in page. We send "
        "you a reset link by email; it works for one hour.\n\nIf the mail does not arrive, check "
        "your spam folder. Accounts locked after five failed attempts unlock after 30 minutes.",
        Visibility.PUBLIC,
    ),
    "refund-policy": (
        "Refund policy",
        "You can return any item within 30 days of delivery for a full refund. Refunds go to "
        "the original payment method within five working days. See "
        "https://shop.example.com/returns for the returns form.",
        Visibility.PUBLIC,
    ),
    "shipping-times": (
        "Shipping times",
        "Parcels leave our warehouse within two working days and arrive in three to five days.",
        Visibility.PUBLIC,
    ),
    "vpn-internal": (
        "Connecting to the office VPN",
        "Agents connect to the office VPN with the WireGuard profile from the IT portal.",
        Visibility.INTERNAL,
    ),
}


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    model = shared_onnx_embedder()
    model.load()
    return model


@pytest.fixture(scope="module")
def kb_stack(moto_endpoint: str) -> Any:
    """One stack for a whole test module: creating one takes seconds, tickets do not clash."""
    from helpdesk_tools.template import create_stack

    return create_stack(
        boto3.session.Session(region_name="us-east-1"), prefix=f"kb{uuid.uuid4().hex[:8]}"
    )


@pytest.fixture(scope="module")
def kb_table(kb_stack: Any) -> Any:
    return (
        boto3.session.Session(region_name="us-east-1")
        .resource("dynamodb")
        .Table(kb_stack.tables["Table"])
    )


@pytest.fixture(scope="module")
def kb(kb_table: Any, embedder: OnnxEmbedder) -> KnowledgeBase:
    """A KB with the four ARTICLES, written once per module."""
    table = kb_table
    base = KnowledgeBase(
        ArticleRepository(table),
        embedder=lambda: embedder,
        base_url="https://help.example.com/help/articles",
    )
    for article_id, (title, body, visibility) in ARTICLES.items():
        base.create(
            ArticleDraft(title=title, body=body, visibility=visibility),
            now=WRITTEN,
            author="a-1",
            article_id=article_id,
        )
    return base


def make_service(table: Any, kb: KnowledgeBase, **changes: Any) -> ResponderService:
    mail = MailSettings(
        mail_bucket="m", attachment_bucket="a", mail_domain="desk.example.com",
        support_address="support@desk.example.com", token_secret="kb-test-secret",
    )  # fmt: skip
    service = ResponderService(
        tickets=TicketRepository(table),
        kb=kb,
        records=AnswerRecords(table),
        answerer=LocalAnswerer(),
        policy=ResponderPolicy(),
        settings=KbSettings(
            kb_base_url="https://help.example.com/help/articles",
            public_url="https://desk.example.com",
        ),
        mail=mail,
    )
    for name, value in changes.items():
        setattr(service, name, value)
    return service


@pytest.fixture
def service(kb_table: Any, kb: KnowledgeBase) -> ResponderService:
    return make_service(kb_table, kb)


@pytest.fixture(name="make_service")
def make_service_fixture() -> Any:
    """`make_service(table, kb, **changes)`: a responder service with fields replaced."""
    return make_service


_numbers = iter(range(100, 100_000))


def open_ticket(
    table: Any,
    text: str = "I forgot my password and cannot sign in. How do I reset it?",
    *,
    subject: str = "Cannot sign in",
    requester: str = "ana@customer.example",
    channel: Channel = Channel.PORTAL,
    **fields: Any,
) -> int:
    """Store a new open ticket of team `support` with the customer's first message."""
    auto_submitted = fields.pop("auto_submitted", None)
    number = next(_numbers)
    ticket = Ticket(
        number=number,
        subject=subject,
        requester=requester,
        channel=channel,
        team="support",
        created_at=OPENED,
        updated_at=OPENED,
        **fields,
    )
    message = Message(
        ticket_number=number,
        id=f"m{number}",
        created_at=OPENED,
        direction=Direction.INBOUND,
        author=requester,
        text=text,
        visible_text=text,
        message_id=f"<in-{number}@customer.example>" if channel == Channel.EMAIL else None,
        auto_submitted=auto_submitted,
    )
    event = AuditEvent(ticket_number=number, at=OPENED, actor=requester, action="created")
    TicketRepository(table).create(ticket, message, event)
    return number


@pytest.fixture(name="open_ticket")
def open_ticket_fixture() -> Any:
    return open_ticket


class MessagesStub:
    """A server on 127.0.0.1 speaking enough of the Anthropic Messages API for the SDK.

    Each POST gets the next queued reply (the last one repeats); requests are recorded.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: list[tuple[int, dict[str, Any]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                stub.requests.append(
                    {"path": self.path, "body": json.loads(self.rfile.read(length))}
                )
                status, payload = stub.replies.pop(0) if len(stub.replies) > 1 else stub.replies[0]
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reply_tool(self, tool_input: dict[str, Any]) -> None:
        content = [
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "answer_from_articles",
                "input": tool_input,
            }
        ]
        self.replies.append(
            (
                200,
                {
                    "id": "msg_01",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-haiku-4-5",
                    "content": content,
                    "stop_reason": "tool_use",
                    "stop_sequence": None,
                    "usage": {"input_tokens": 200, "output_tokens": 50},
                },
            )
        )

    def reply_error(self, status: int) -> None:
        self.replies.append(
            (status, {"type": "error", "error": {"type": "api_error", "message": "down"}})
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def messages_stub() -> Iterator[MessagesStub]:
    stub = MessagesStub()
    yield stub
    stub.close()
