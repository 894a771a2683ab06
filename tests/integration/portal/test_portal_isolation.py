"""A customer sees only their own tickets (and their organisation's where shared), by every
route: numbers, ids, cursors and attachment keys."""

from __future__ import annotations

import requests

from helpdesk.domain.models import Channel, Organisation
from tests.integration.portal.support import Desk

CAROL = "carol@customer.example"
MALLORY = "mallory@other.example"


def test_a_customer_cannot_read_reply_solve_rate_or_download_anothers_ticket(desk: Desk) -> None:
    theirs = desk.ticket(CAROL, channel=Channel.PORTAL)
    message_id = desk.tickets.thread(theirs.number).messages[0].id
    mallory = desk.customer(MALLORY)
    base = f"/api/portal/tickets/{theirs.number}"

    attempts = [
        desk.get(base, headers=mallory),
        desk.post(base + "/replies", {"text": "me too"}, headers=mallory),
        desk.post(base + "/solve", headers=mallory),
        desk.post(base + "/rating", {"score": 1}, headers=mallory),
        desk.get(base + f"/attachments/{message_id}/0", headers=mallory),
    ]

    assert [response.status_code for response in attempts] == [404] * 5
    thread = desk.tickets.thread(theirs.number)
    assert len(thread.messages) == 1
    assert thread.ticket.status.value == "open" and thread.ticket.csat is None


def test_a_missing_ticket_and_a_foreign_one_look_the_same(desk: Desk) -> None:
    theirs = desk.ticket(CAROL)
    mallory = desk.customer(MALLORY)

    foreign = desk.get(f"/api/portal/tickets/{theirs.number}", headers=mallory)
    missing = desk.get("/api/portal/tickets/999999", headers=mallory)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json_body["error"]["code"] == missing.json_body["error"]["code"]


def test_a_customer_list_shows_only_their_own_tickets(desk: Desk) -> None:
    mine = [desk.ticket(MALLORY).number for _ in range(2)]
    desk.ticket(CAROL)

    page = desk.get("/api/portal/tickets", headers=desk.customer(MALLORY)).json_body

    assert sorted(ticket["number"] for ticket in page["tickets"]) == sorted(mine)


def test_another_customers_cursor_is_refused(desk: Desk) -> None:
    for _ in range(3):
        desk.ticket(CAROL)
    carol_page = desk.get("/api/portal/tickets?limit=1", headers=desk.customer(CAROL)).json_body
    assert carol_page["cursor"]

    response = desk.get(
        f"/api/portal/tickets?limit=1&cursor={carol_page['cursor']}",
        headers=desk.customer(MALLORY),
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "cursor"


def test_a_tampered_cursor_is_refused(desk: Desk) -> None:
    for _ in range(3):
        desk.ticket(CAROL)
    headers = desk.customer(CAROL)
    cursor = desk.get("/api/portal/tickets?limit=1", headers=headers).json_body["cursor"]
    payload, _, mac = cursor.partition(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac

    response = desk.get(f"/api/portal/tickets?limit=1&cursor={tampered}", headers=headers)

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "cursor"


def test_a_customer_cannot_attach_an_upload_issued_to_someone_else(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    grant = desk.post(
        "/api/portal/uploads",
        {"filename": "invoice.pdf", "content_type": "application/pdf", "size": 5},
        headers=carol,
    ).json_body
    uploaded = requests.post(
        grant["url"], data=grant["fields"], files={"file": ("invoice.pdf", b"%PDF-")}, timeout=10
    )
    assert uploaded.status_code in (200, 204), uploaded.text

    response = desk.post(
        "/api/portal/tickets",
        {"subject": "Stolen file", "text": "look", "attachments": [grant["key"]]},
        headers=desk.customer(MALLORY),
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "attachments.0"


def test_a_customer_never_sees_internal_notes(desk: Desk) -> None:
    ticket = desk.ticket(CAROL, channel=Channel.PORTAL)
    desk.post(
        f"/api/agent/tickets/{ticket.number}/notes",
        {"text": "customer is a known fraud risk"},
        headers=desk.agent("bob"),
    )
    desk.post(
        f"/api/agent/tickets/{ticket.number}/replies",
        {"text": "We are on it."},
        headers=desk.agent("bob"),
    )

    detail = desk.get(f"/api/portal/tickets/{ticket.number}", headers=desk.customer(CAROL))

    texts = [message["text"] for message in detail.json_body["messages"]]
    assert texts == ["It smokes since this morning.", "We are on it."]
    assert "fraud" not in detail.body.decode()


def test_colleagues_see_each_others_tickets_only_where_the_organisation_shares(
    desk: Desk,
) -> None:
    desk.config.put(
        "organisations",
        "acme",
        Organisation(id="acme", name="Acme", domains=["acme.example"], shared_tickets=False),
    )
    colleague = desk.ticket("ann@acme.example")
    bert = desk.customer("bert@acme.example")
    desk.customer("ann@acme.example")
    refused = desk.get(f"/api/portal/tickets/{colleague.number}", headers=bert)
    refused_list = desk.get("/api/portal/tickets?scope=organisation", headers=bert)

    desk.config.put(
        "organisations",
        "acme",
        Organisation(id="acme", name="Acme", domains=["acme.example"], shared_tickets=True),
    )
    allowed = desk.get(f"/api/portal/tickets/{colleague.number}", headers=bert)
    listed = desk.get("/api/portal/tickets?scope=organisation", headers=bert)

    assert refused.status_code == 404
    assert refused_list.status_code == 400
    assert allowed.status_code == 200
    assert [t["number"] for t in listed.json_body["tickets"]] == [colleague.number]


def test_an_agent_without_admin_gets_403_on_every_admin_route(desk: Desk, portal_function) -> None:
    bob = desk.agent("bob")
    admin_routes = [
        (path, method)
        for path, methods in portal_function.app.routes.items()
        if path.startswith("/api/admin")
        for method in methods
    ]
    assert len(admin_routes) == 4

    statuses = []
    for kind in ("teams", "agents", "sla-policies", "macros", "webhooks", "organisations"):
        statuses += [
            desk.get(f"/api/admin/{kind}", headers=bob).status_code,
            desk.get(f"/api/admin/{kind}/support", headers=bob).status_code,
            desk.put(f"/api/admin/{kind}/x", {"id": "x", "name": "X"}, headers=bob).status_code,
            desk.delete(f"/api/admin/{kind}/support", headers=bob).status_code,
        ]

    assert set(statuses) == {403}
    assert desk.get("/api/admin/teams/support", headers=desk.agent("ada")).status_code == 200


def test_an_agent_cannot_make_themselves_admin(desk: Desk) -> None:
    bob = desk.agent("bob")

    response = desk.put(
        "/api/admin/agents/bob",
        {"email": "bob@desk.example", "name": "Bob", "role": "admin"},
        headers=bob,
    )

    assert response.status_code == 403
    assert desk.get("/api/auth/me", headers=bob).json_body["roles"] == ["agent"]
