"""Agent actions on a ticket: replies, notes, changes with optimistic locking, merges, macros,
canned responses, presence, and hostile HTML shown inert."""

from __future__ import annotations

import json

from helpdesk.domain.models import Channel
from helpdesk.portal.schemas import CannedResponse, Macro, MacroChanges
from tests.integration.portal.support import Desk

CAROL = "carol@customer.example"
HOSTILE = (
    '<p>Hello</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a><svg onload="alert(4)"><script>alert(5)</script></svg>'
    '<div style="background:url(javascript:alert(6))">css</div>'
    '<iframe src="https://evil.example"></iframe>'
)


def test_a_public_reply_on_an_email_ticket_is_queued_as_mail(desk: Desk) -> None:
    ticket = desk.ticket(CAROL, channel=Channel.EMAIL)

    response = desk.post(
        f"/api/agent/tickets/{ticket.number}/replies",
        {"text": "Please unplug it.", "status": "pending"},
        headers=desk.agent("bob"),
    )

    assert response.status_code == 201
    body = response.json_body
    assert body["message"]["delivery_state"] == "queued"
    assert body["ticket"]["status"] == "pending"
    queue_url = desk.stack.queue_urls["OutboundQueue"]
    jobs = desk.aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    job = json.loads(jobs["Messages"][0]["Body"])
    assert job["ticket_number"] == ticket.number
    stored = desk.tickets.thread(ticket.number).messages[-1]
    assert stored.message_id == job["message_id"]
    assert stored.in_reply_to is not None


def test_a_change_with_a_stale_version_is_409_and_changes_nothing(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)
    bob = desk.agent("bob")
    first = desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"version": 1, "priority": "high"}, headers=bob
    )

    stale = desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"version": 1, "priority": "low"}, headers=bob
    )
    by_header = desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"priority": "low"}, headers={**bob, "If-Match": "1"}
    )

    assert first.status_code == 200 and first.json_body["ticket"]["version"] == 2
    assert stale.status_code == 409 and by_header.status_code == 409
    assert stale.json_body["error"]["code"] == "conflict"
    assert desk.tickets.get(ticket.number).priority.value == "high"


def test_a_change_without_a_version_names_the_field(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)

    response = desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"priority": "high"}, headers=desk.agent("bob")
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "version"


def test_each_change_leaves_an_audit_event(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)

    desk.patch(
        f"/api/agent/tickets/{ticket.number}",
        {
            "version": 1,
            "status": "on_hold",
            "team": "billing",
            "tags": ["VIP", "printer"],
            "assignee": "cy",
            "category": "hardware",
        },
        headers=desk.agent("bob"),
    )

    events = desk.tickets.thread(ticket.number).events
    actions = {event.action: event.changes for event in events}
    assert actions["status_changed"]["status"] == ["open", "on_hold"]
    assert actions["team_changed"]["team"] == ["support", "billing"]
    assert actions["tags_changed"]["tags"] == [[], ["vip", "printer"]]
    assert actions["assigned"]["assignee"] == [None, "cy"]
    assert actions["category_changed"]["category"] == [None, "hardware"]
    assert all(event.actor == "bob" for event in events if event.action != "created")


def test_an_illegal_status_move_is_400(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)
    bob = desk.agent("bob")
    desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"version": 1, "status": "closed"}, headers=bob
    )

    response = desk.patch(
        f"/api/agent/tickets/{ticket.number}", {"version": 2, "status": "pending"}, headers=bob
    )

    assert response.status_code == 400
    assert response.json_body["error"] == {
        "code": "illegal_transition",
        "message": "a closed ticket cannot become pending",
        "field": "status",
    }


def test_an_unknown_field_in_a_body_is_named(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)

    response = desk.patch(
        f"/api/agent/tickets/{ticket.number}",
        {"version": 1, "number": 5},
        headers=desk.agent("bob"),
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "number"


def test_merge_closes_the_duplicate_with_a_note_on_both(desk: Desk) -> None:
    original = desk.ticket(CAROL, subject="Printer on fire")
    duplicate = desk.ticket(CAROL, subject="Printer still on fire")

    response = desk.post(
        f"/api/agent/tickets/{duplicate.number}/merge",
        {"into": original.number, "version": 1},
        headers=desk.agent("bob"),
    )

    assert response.status_code == 200
    assert response.json_body["ticket"]["status"] == "closed"
    assert response.json_body["ticket"]["duplicate_of"] == original.number
    notes = [m.text for m in desk.tickets.thread(original.number).messages if m.kind == "system"]
    assert notes == [f"Ticket #{duplicate.number} was merged into this ticket by Bob."]
    dup_notes = [
        m.text for m in desk.tickets.thread(duplicate.number).messages if m.kind == "system"
    ]
    assert dup_notes == [f"Merged into ticket #{original.number} by Bob."]


def test_a_macro_applies_its_changes_and_reply_in_one_write(desk: Desk) -> None:
    desk.config.put(
        "macros",
        "close-printer",
        Macro(
            id="close-printer",
            name="Printer fixed",
            changes=MacroChanges(status="solved", priority="low", add_tags=["printer"]),
            reply="Hi {{requester.name}}, ticket {{ticket.number}} is fixed. {{agent.name}}",
        ),
    )
    ticket = desk.ticket(CAROL, channel=Channel.PORTAL)

    response = desk.post(
        f"/api/agent/tickets/{ticket.number}/macros/close-printer",
        {"version": 1},
        headers=desk.agent("bob"),
    )

    body = response.json_body
    assert response.status_code == 200
    assert body["ticket"]["version"] == 2
    assert (body["ticket"]["status"], body["ticket"]["priority"]) == ("solved", "low")
    assert body["ticket"]["tags"] == ["printer"]
    assert body["message"]["text"] == f"Hi Carol, ticket {ticket.number} is fixed. Bob"


def test_a_canned_response_fills_its_placeholders(desk: Desk) -> None:
    desk.config.put(
        "canned-responses",
        "hello",
        CannedResponse(
            id="hello",
            title="Hello",
            text="Dear {{requester.name}}, re #{{ticket.number}} ({{team.name}}) {{unknown.thing}}",
        ),
    )
    ticket = desk.ticket(CAROL)

    response = desk.post(
        f"/api/agent/tickets/{ticket.number}/canned/hello", headers=desk.agent("bob")
    )

    assert response.json_body == {
        "text": f"Dear Carol, re #{ticket.number} (Support) {{{{unknown.thing}}}}"
    }


def test_presence_shows_the_other_agents_only(desk: Desk) -> None:
    ticket = desk.ticket(CAROL)
    path = f"/api/agent/tickets/{ticket.number}/presence"
    desk.put(path, {"activity": "replying"}, headers=desk.agent("cy"))

    mine = desk.put(path, {"activity": "viewing"}, headers=desk.agent("bob")).json_body

    assert [(p["agent_id"], p["activity"]) for p in mine["others"]] == [("cy", "replying")]


def test_hostile_html_in_a_stored_message_is_returned_inert(desk: Desk) -> None:
    ticket = desk.ticket(CAROL, html=HOSTILE, channel=Channel.PORTAL)

    agent_view = desk.get(f"/api/agent/tickets/{ticket.number}", headers=desk.agent("bob"))
    customer_view = desk.get(f"/api/portal/tickets/{ticket.number}", headers=desk.customer(CAROL))

    for html in (
        agent_view.json_body["messages"][0]["html"],
        customer_view.json_body["messages"][0]["html"],
    ):
        lowered = html.lower()
        assert "<p>hello</p>" in lowered
        for marker in ("<script", "onerror", "onload", "javascript:", "<iframe", "style=", "<svg"):
            assert marker not in lowered, marker


def test_a_reply_with_hostile_html_is_stored_sanitised(desk: Desk) -> None:
    ticket = desk.ticket(CAROL, channel=Channel.PORTAL)

    desk.post(
        f"/api/agent/tickets/{ticket.number}/replies",
        {"text": "see html", "html": HOSTILE},
        headers=desk.agent("bob"),
    )

    stored = desk.tickets.thread(ticket.number).messages[-1].html or ""
    assert "<script" not in stored and "onerror" not in stored and "javascript:" not in stored
