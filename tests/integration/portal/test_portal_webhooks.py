"""Chat webhooks: signed, fresh and once; a conversation keeps to one ticket."""

from __future__ import annotations

import json
import time

from helpdesk.portal.services.webhooks import signature
from tests.integration.portal.support import WEBHOOK_SECRET, Desk


def _deliver(desk: Desk, body: dict, *, secret: str = WEBHOOK_SECRET, age: int = 0) -> object:
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()) - age)
    return desk.client.http.post(
        "/api/webhooks/chat",
        body=raw,
        headers={
            "Content-Type": "application/json",
            "X-Helpdesk-Timestamp": stamp,
            "X-Helpdesk-Signature": signature(secret, stamp, raw),
        },
    )


MESSAGE = {"conversation_id": "c-1", "from": {"email": "eve@chat.example"}, "text": "Hi, help"}


def test_a_chat_message_opens_a_ticket_and_the_next_joins_it(desk: Desk) -> None:
    first = _deliver(desk, MESSAGE)
    second = _deliver(desk, {**MESSAGE, "text": "Still there?"})

    assert first.status_code == 200 and first.json_body["created"] is True
    number = first.json_body["ticket_number"]
    assert second.json_body == {"ticket_number": number, "created": False}
    thread = desk.tickets.thread(number)
    assert thread.ticket.channel.value == "chat"
    assert [m.text for m in thread.messages] == ["Hi, help", "Still there?"]


def test_a_wrong_signature_is_refused(desk: Desk) -> None:
    response = _deliver(desk, MESSAGE, secret="guessed")

    assert response.status_code == 401


def test_a_delivery_older_than_five_minutes_is_refused(desk: Desk) -> None:
    response = _deliver(desk, MESSAGE, age=301)

    assert response.status_code == 401


def test_a_replayed_delivery_is_refused(desk: Desk) -> None:
    raw = json.dumps(MESSAGE).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Helpdesk-Timestamp": stamp,
        "X-Helpdesk-Signature": signature(WEBHOOK_SECRET, stamp, raw),
    }

    first = desk.client.http.post("/api/webhooks/chat", body=raw, headers=headers)
    replay = desk.client.http.post("/api/webhooks/chat", body=raw, headers=headers)

    assert first.status_code == 200
    assert replay.status_code == 401


def test_a_signed_but_malformed_message_names_the_field(desk: Desk) -> None:
    response = _deliver(desk, {"conversation_id": "c-2", "from": {"email": "x"}, "text": "hi"})

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "from.email"


def test_an_oversized_body_is_413(desk: Desk) -> None:
    response = _deliver(desk, {**MESSAGE, "text": "x" * 300_000})

    assert response.status_code == 413


def test_a_message_on_a_closed_conversation_opens_a_new_ticket(desk: Desk) -> None:
    first = _deliver(desk, MESSAGE).json_body["ticket_number"]
    desk.patch(
        f"/api/agent/tickets/{first}", {"version": 1, "status": "closed"}, headers=desk.agent("bob")
    )

    later = _deliver(desk, {**MESSAGE, "text": "New problem"})
    after = _deliver(desk, {**MESSAGE, "text": "More on it"})

    assert later.json_body["created"] is True
    assert later.json_body["ticket_number"] != first
    assert after.json_body == {"ticket_number": later.json_body["ticket_number"], "created": False}
