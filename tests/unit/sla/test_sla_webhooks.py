"""Signed, retried webhooks to a Slack-style receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpdesk.domain.models import SlaNotification, Ticket
from helpdesk.sla.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, sign, verify

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
EPOCH = NOW.timestamp()


class Receiver:
    """Answers each POST with the next status of `answers` (then 200), recording requests."""

    def __init__(self, answers: list[int]) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = answers.pop(0) if answers else 200
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    running = Receiver(list(request.param))
    yield running
    running.close()


def _notice(url: str) -> SlaNotification:
    return SlaNotification(
        id="first_response/breach/x/webhook/0",
        kind="breach",
        target="first_response",
        channel="webhook",
        destination=url,
        not_before=NOW,
    )


def _ticket() -> Ticket:
    return Ticket(
        number=42, subject="vpn", requester="ada@example.org", created_at=NOW, updated_at=NOW
    )


def _sender(waits: list[float]) -> WebhookSender:
    return WebhookSender({"default": "k3y"}, sleep=waits.append, clock=lambda: EPOCH)


@pytest.mark.parametrize("receiver", [[]], indirect=True)
def test_a_delivery_is_signed_over_its_timestamp_and_body(receiver: Receiver) -> None:
    outcome = _sender([]).send(_notice(receiver.url), _ticket())

    headers, body = receiver.requests[0]
    assert outcome.delivered
    assert headers[TIMESTAMP_HEADER] == str(int(EPOCH))
    assert headers[SIGNATURE_HEADER] == sign("k3y", int(EPOCH), body)
    assert verify(
        "k3y", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], now_epoch=EPOCH
    )
    assert json.loads(body)["text"].startswith("Ticket #42 (normal): first response breached")


def test_a_signature_under_another_key_or_too_old_does_not_verify() -> None:
    body = b'{"text": "hi"}'
    signature = sign("k3y", int(EPOCH), body)

    assert not verify("other", str(int(EPOCH)), body, signature, now_epoch=EPOCH)
    assert not verify("k3y", str(int(EPOCH)), body + b" ", signature, now_epoch=EPOCH)
    assert not verify("k3y", str(int(EPOCH)), body, signature, now_epoch=EPOCH + 301)


@pytest.mark.parametrize("receiver", [[500, 503, 502, 504]], indirect=True)
def test_a_receiver_that_keeps_failing_is_tried_a_bounded_number_of_times(
    receiver: Receiver,
) -> None:
    waits: list[float] = []

    outcome = _sender(waits).send(_notice(receiver.url), _ticket())

    assert not outcome.delivered
    assert "gave up after 4 attempts" in outcome.detail
    assert len(receiver.requests) == 4
    assert waits == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("receiver", [[400], [302]], indirect=True)
def test_a_refusal_or_a_redirect_is_final_and_not_followed(receiver: Receiver) -> None:
    waits: list[float] = []

    outcome = _sender(waits).send(_notice(receiver.url), _ticket())

    assert not outcome.delivered
    assert len(receiver.requests) == 1
    assert waits == []


@pytest.mark.parametrize("receiver", [[]], indirect=True)
def test_a_notice_naming_an_unknown_secret_is_not_sent(receiver: Receiver) -> None:
    notice = _notice(receiver.url).model_copy(update={"secret": "missing"})

    outcome = _sender([]).send(notice, _ticket())

    assert not outcome.delivered
    assert receiver.requests == []
