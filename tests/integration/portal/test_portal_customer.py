"""The customer portal: open a ticket with an uploaded file, reply, solve, rate once."""

from __future__ import annotations

import requests

from helpdesk.portal.schemas import Branding
from tests.integration.portal.support import Desk

CAROL = "carol@customer.example"


def _upload(desk: Desk, headers: dict[str, str], name: str, data: bytes, kind: str) -> str:
    grant = desk.post(
        "/api/portal/uploads",
        {"filename": name, "content_type": kind, "size": len(data)},
        headers=headers,
    )
    assert grant.status_code == 201, grant.body
    body = grant.json_body
    sent = requests.post(body["url"], data=body["fields"], files={"file": (name, data)}, timeout=10)
    assert sent.status_code in (200, 204), sent.text
    return body["key"]


def test_a_customer_opens_a_ticket_with_an_attachment_and_downloads_it(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    key = _upload(desk, carol, "../../photo of fire.png", b"\x89PNG fake", "image/png")

    opened = desk.post(
        "/api/portal/tickets",
        {"subject": "Printer on fire", "text": "See the photo.", "attachments": [key]},
        headers=carol,
    )

    assert opened.status_code == 201
    number = opened.json_body["ticket"]["number"]
    ticket = desk.tickets.thread(number)
    assert ticket.ticket.channel.value == "portal"
    attachment = ticket.messages[0].attachments[0]
    assert attachment.filename == "photo_of_fire.png"
    assert attachment.key is not None and attachment.key.startswith(f"attachments/{number}/")
    detail = desk.get(f"/api/portal/tickets/{number}", headers=carol).json_body
    message_id = detail["messages"][0]["id"]
    assert detail["messages"][0]["attachments"][0]["key"] is None
    link = desk.get(f"/api/portal/tickets/{number}/attachments/{message_id}/0", headers=carol)
    assert requests.get(link.json_body["url"], timeout=10).content == b"\x89PNG fake"


def test_an_upload_can_be_attached_only_once(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    key = _upload(desk, carol, "a.txt", b"hello", "text/plain")
    desk.post(
        "/api/portal/tickets", {"subject": "One", "text": "x", "attachments": [key]}, headers=carol
    )

    again = desk.post(
        "/api/portal/tickets", {"subject": "Two", "text": "x", "attachments": [key]}, headers=carol
    )

    assert again.status_code == 400
    assert again.json_body["error"]["field"] == "attachments.0"


def test_uploads_over_the_limit_or_of_a_refused_type_are_refused(desk: Desk) -> None:
    carol = desk.customer(CAROL)

    too_big = desk.post(
        "/api/portal/uploads",
        {"filename": "big.pdf", "content_type": "application/pdf", "size": 50 * 1024 * 1024},
        headers=carol,
    )
    wrong_type = desk.post(
        "/api/portal/uploads",
        {"filename": "x.exe", "content_type": "application/x-msdownload", "size": 10},
        headers=carol,
    )

    assert too_big.status_code == 413
    assert wrong_type.status_code == 400
    assert wrong_type.json_body["error"]["field"] == "content_type"


def test_a_customer_replies_solves_and_rates_once(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    number = desk.post(
        "/api/portal/tickets", {"subject": "Help", "text": "Please"}, headers=carol
    ).json_body["ticket"]["number"]

    reply = desk.post(
        f"/api/portal/tickets/{number}/replies", {"text": "More detail"}, headers=carol
    )
    early = desk.post(f"/api/portal/tickets/{number}/rating", {"score": 5}, headers=carol)
    solved = desk.post(f"/api/portal/tickets/{number}/solve", headers=carol)
    rated = desk.post(
        f"/api/portal/tickets/{number}/rating", {"score": 4, "comment": "Quick"}, headers=carol
    )
    again = desk.post(f"/api/portal/tickets/{number}/rating", {"score": 1}, headers=carol)

    assert reply.status_code == 201
    assert early.status_code == 400
    assert solved.json_body["ticket"]["status"] == "solved"
    assert (rated.json_body["ticket"]["csat"], rated.json_body["ticket"]["csat_comment"]) == (
        4,
        "Quick",
    )
    assert again.status_code == 409
    assert desk.tickets.get(number).csat == 4


def test_a_reply_reopens_a_solved_ticket(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    number = desk.post(
        "/api/portal/tickets", {"subject": "Help", "text": "Please"}, headers=carol
    ).json_body["ticket"]["number"]
    desk.post(f"/api/portal/tickets/{number}/solve", headers=carol)

    reply = desk.post(
        f"/api/portal/tickets/{number}/replies", {"text": "It is back"}, headers=carol
    )

    assert reply.json_body["ticket"]["status"] == "open"


def test_a_rating_out_of_range_names_the_field(desk: Desk) -> None:
    carol = desk.customer(CAROL)
    number = desk.post(
        "/api/portal/tickets", {"subject": "Help", "text": "Please"}, headers=carol
    ).json_body["ticket"]["number"]

    response = desk.post(f"/api/portal/tickets/{number}/rating", {"score": 9}, headers=carol)

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "score"


def test_branding_is_public(desk: Desk) -> None:
    desk.config.put(
        "branding", "default", Branding(brand_name="Acme Help", primary_colour="#112233")
    )

    config = desk.get("/api/portal/config").json_body

    assert config["brand_name"] == "Acme Help" and config["primary_colour"] == "#112233"


def test_suggestions_find_public_articles_only(desk: Desk) -> None:
    bob = desk.agent("bob")
    for title, visibility in (
        ("Printer on fire: what to do", "public"),
        ("Printer fire escalation runbook", "internal"),
    ):
        created = desk.post(
            "/api/agent/kb/articles",
            {
                "title": title,
                "body": "Unplug the printer and leave the room.",
                "visibility": visibility,
            },
            headers=bob,
        )
        assert created.status_code == 201, created.body

    response = desk.get("/api/portal/suggestions?q=printer%20fire")

    assert response.status_code == 200
    titles = [article["title"] for article in response.json_body["articles"]]
    assert titles == ["Printer on fire: what to do"]
