"""The whole desk on one machine, through its real sockets: mail in over SMTP, the agent API
over HTTP, replies out through SES into the outbox, and the SLA sweep on its schedule.

GIVEN a freshly started `helpdesk start` (no seed, SLA sweep every second)
WHEN a customer writes, an agent replies and the customer answers that reply
THEN one ticket holds the whole conversation and the reply threads in the customer's client.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from tests.e2e.local_desk import Desk, wait_for

pytestmark = pytest.mark.slow

SUBJECT = "My card payment was declined twice"


def _ticket_with_subject(desk: Desk, subject: str) -> dict[str, Any] | None:
    tickets = desk.api("GET", "/api/agent/tickets?status=open,pending,on_hold,solved")["tickets"]
    return next((t for t in tickets if t["subject"] == subject), None)


@pytest.fixture(scope="module")
def conversation(desk: Desk) -> dict[str, Any]:
    """The customer's first mail, its ticket, and the agent's reply as it left through SES."""
    first = EmailMessage()
    first["From"] = "Rosa Almeida <rosa.almeida@example.org>"
    first["To"] = "support@example.com"
    first["Subject"] = SUBJECT
    first["Message-ID"] = make_msgid(domain="example.org")
    first.set_content("Hello,\n\nmy card was declined twice at the same shop today.\n\nRosa\n")
    desk.send(first)
    ticket = wait_for(lambda: _ticket_with_subject(desk, SUBJECT), "the ticket from the mail")

    detail = desk.api("GET", f"/api/agent/tickets/{ticket['number']}")
    desk.api(
        "POST",
        f"/api/agent/tickets/{ticket['number']}/replies",
        {"version": detail["ticket"]["version"], "text": "Sorry about that: please retry now."},
    )

    def agent_reply() -> dict[str, Any] | None:
        return next(
            (
                mail
                for mail in desk.outbox()
                if "please retry now" in mail["text"] and "rosa.almeida@example.org" in
                mail["destinations"]
            ),
            None,
        )  # fmt: skip

    reply = wait_for(agent_reply, "the agent's reply in the outbox")
    return {"first": first, "ticket": ticket, "reply": reply}


def _header(mail: dict[str, Any], name: str) -> str | None:
    return next((value for key, value in mail["headers"] if key.lower() == name.lower()), None)


def test_mail_sent_over_smtp_opens_a_ticket_the_api_shows(
    desk: Desk, conversation: dict[str, Any]
) -> None:
    ticket = conversation["ticket"]

    detail = desk.api("GET", f"/api/agent/tickets/{ticket['number']}")

    assert detail["ticket"]["requester"] == "rosa.almeida@example.org"
    assert detail["ticket"]["channel"] == "email"
    assert "declined twice at the same shop" in detail["messages"][0]["text"]


def test_agent_reply_leaves_through_ses_with_threading_headers(
    conversation: dict[str, Any],
) -> None:
    reply, first = conversation["reply"], conversation["first"]

    assert _header(reply, "Message-ID")
    assert _header(reply, "In-Reply-To") == first["Message-ID"]
    assert first["Message-ID"] in (_header(reply, "References") or "")
    assert re.search(rf"#{conversation['ticket']['number']}\b", reply["subject"])


def test_outbox_page_lists_the_reply_with_its_headers(
    desk: Desk, conversation: dict[str, Any]
) -> None:
    status, headers, body = desk.request("GET", "/local/outbox")

    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert (
        "In-Reply-To: "
        + conversation["first"]["Message-ID"].replace("<", "&lt;").replace(">", "&gt;")
        in page
    )


def test_customer_reply_over_smtp_joins_the_same_ticket(
    desk: Desk, conversation: dict[str, Any]
) -> None:
    reply, ticket = conversation["reply"], conversation["ticket"]
    answer = EmailMessage()
    answer["From"] = "Rosa Almeida <rosa.almeida@example.org>"
    answer["To"] = _header(reply, "Reply-To") or "support@example.com"
    answer["Subject"] = "Re: " + reply["subject"]
    answer["Message-ID"] = make_msgid(domain="example.org")
    answer["In-Reply-To"] = _header(reply, "Message-ID")
    answer["References"] = f"{_header(reply, 'References')} {_header(reply, 'Message-ID')}"
    answer.set_content("It works now, thank you!\n\n> Sorry about that: please retry now.\n")

    desk.send(answer, to=str(answer["To"]))

    def customer_messages() -> list[dict[str, Any]] | None:
        detail = desk.api("GET", f"/api/agent/tickets/{ticket['number']}")
        inbound = [m for m in detail["messages"] if m["direction"] == "inbound"]
        return inbound if len(inbound) >= 2 else None

    inbound = wait_for(customer_messages, "the customer's answer on the ticket")
    assert "It works now" in inbound[-1]["text"]
    assert _ticket_with_subject(desk, answer["Subject"]) is None


def test_sla_sweep_runs_on_its_schedule_and_records_a_warning(desk: Desk) -> None:
    # GIVEN a waiting ticket, then a policy whose first-response warning is already due
    waiting = EmailMessage()
    waiting["From"] = "Kofi Okafor <kofi.okafor@example.net>"
    waiting["To"] = "support@example.com"
    waiting["Subject"] = "Still waiting for my refund"
    waiting["Message-ID"] = make_msgid(domain="example.net")
    waiting.set_content("I returned the parcel three weeks ago.\n")
    desk.send(waiting)
    ticket = wait_for(lambda: _ticket_with_subject(desk, waiting["Subject"]), "the new ticket")
    mark = len(desk.lines)
    policy = {
        "id": "e2e-fast",
        "name": "Fast first answer",
        "business_hours": False,
        "warn_at": 0.01,
        "targets": {"first_response": 1, "resolution": 600},
    }
    desk.api("PUT", "/api/admin/sla-policies/e2e-fast", policy)

    # WHEN the schedule fires the SLA function (every second here)
    def warned() -> str | None:
        detail = desk.api("GET", f"/api/agent/tickets/{ticket['number']}")
        return detail["ticket"]["sla"]["first_response"].get("warned_at")

    warned_at = wait_for(warned, "the sweep to record the warning", timeout=60)

    # THEN the warning is recorded on the ticket, by a sweep the schedule fired
    sweeps = [line for line in desk.log_since(mark) if "[schedule] sla sweep done" in line]
    assert warned_at >= ticket["created_at"]
    assert sweeps
    assert any('"warnings": 1' in line for line in sweeps)
