"""The knowledge-base routes through the real portal function (Chalice test client, moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import boto3
import pytest
from chalice.test import Client

from helpdesk.data.config import ConfigRepository
from helpdesk.domain.models import Agent, Channel, Role, Status, Team
from helpdesk.kb.settings import kb_settings
from helpdesk.portal import context
from helpdesk.portal.schemas import Branding
from tests.integration.portal.support import SESSION_SECRET, Desk, load_portal_function

PUBLIC = {
    "id": "reset-password",
    "title": "How to reset your password",
    "body": "Click **Forgot password** on the sign-in page; the link we mail works for an hour.",
    "tags": ["account"],
}
INTERNAL = {
    "id": "impersonation",
    "title": "Impersonating a customer account",
    "body": "Agents open the admin console and choose impersonate on the password page.",
    "visibility": "internal",
}


@pytest.fixture(scope="module")
def portal_function() -> Any:
    return load_portal_function()


@pytest.fixture
def desk(
    aws: boto3.session.Session,
    stack: Any,
    table: Any,
    moto_endpoint: str,
    portal_function: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Desk]:
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HELPDESK_DEV_LOGIN", "1")
    monkeypatch.setenv("HELPDESK_SESSION_SECRET", SESSION_SECRET)
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "http://127.0.0.1:9")
    context.reset()
    kb_settings.cache_clear()
    config = ConfigRepository(table)
    config.put("teams", "support", Team(id="support", name="Support"))
    config.put("agents", "ada", Agent(id="ada", email="ada@desk.example", name="Ada",
                                      role=Role.ADMIN, teams=["support"]))  # fmt: skip
    with Client(portal_function.app) as client:
        yield Desk(client=client, table=table, aws=aws, endpoint=moto_endpoint, stack=stack)
    context.reset()
    kb_settings.cache_clear()


def test_agents_create_edit_and_delete_articles_with_versions(desk: Desk) -> None:
    agent = desk.agent("ada")

    created = desk.post("/api/agent/kb/articles", PUBLIC, agent)
    edited = desk.put(
        "/api/agent/kb/articles/reset-password",
        {**PUBLIC, "body": "Use the *Forgot password* link.", "version": 1},
        agent,
    )
    stale = desk.put(
        "/api/agent/kb/articles/reset-password", {**PUBLIC, "body": "old", "version": 1}, agent
    )
    versions = desk.get("/api/agent/kb/articles/reset-password/versions", agent)
    deleted = desk.delete("/api/agent/kb/articles/reset-password?version=2", agent)
    gone = desk.get("/api/agent/kb/articles/reset-password", agent)

    assert created.status_code == 201 and created.json_body["version"] == 1
    assert "<strong>Forgot password</strong>" in created.json_body["html"]
    assert created.json_body["url"] == "http://127.0.0.1:9/help/articles/reset-password"
    assert edited.status_code == 200 and edited.json_body["version"] == 2
    assert stale.status_code == 409 and stale.json_body["error"]["code"] == "conflict"
    assert [v["version"] for v in versions.json_body["versions"]] == [1, 2]
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_agent_routes_need_an_agent(desk: Desk) -> None:
    response = desk.post("/api/agent/kb/articles", PUBLIC)

    assert response.status_code == 401


def test_customers_and_the_public_never_see_internal_articles(desk: Desk) -> None:
    agent = desk.agent("ada")
    desk.post("/api/agent/kb/articles", PUBLIC, agent)
    desk.post("/api/agent/kb/articles", INTERNAL, agent)

    public = desk.get("/api/portal/kb/search?q=password+page")
    suggested = desk.get("/api/portal/kb/suggest?q=password")
    staff = desk.get("/api/agent/kb/search?q=password+page", agent)
    centre = desk.get("/api/portal/kb/help")

    assert [a["id"] for a in public.json_body["articles"]] == ["reset-password"]
    assert [a["id"] for a in suggested.json_body["articles"]] == ["reset-password"]
    assert {a["id"] for a in staff.json_body["articles"]} == {"reset-password", "impersonation"}
    assert [a["id"] for a in centre.json_body["articles"]] == ["reset-password"]
    assert centre.json_body["sections"][0]["tag"] == "account"
    assert desk.get("/api/portal/kb/articles/impersonation").status_code == 404
    assert desk.get("/help/articles/impersonation").status_code == 404
    desk.config.put("branding", "default", Branding(brand_name="Acme Care"))
    page = desk.get("/help/articles/reset-password")
    assert page.status_code == 200 and b"How to reset your password" in page.body
    assert b'class="brand" href="../../">Acme Care</a>' in page.body


def test_a_csv_import_through_the_api_reports_each_article(desk: Desk) -> None:
    csv_text = "id,title,body\nvpn,VPN,Install the client.\nbad id!,,\n"

    response = desk.post("/api/agent/kb/import", {"csv": csv_text}, desk.agent("ada"))

    assert response.status_code == 400  # the whole CSV is refused, naming the bad row
    assert "line 3" in response.json_body["error"]["message"]


def test_the_mailed_link_opens_a_page_and_only_its_button_solves_the_ticket(desk: Desk) -> None:
    from helpdesk.kb.responder import maybe_answer
    from helpdesk.portal.blueprints import kb as kb_routes

    desk.post("/api/agent/kb/articles", PUBLIC, desk.agent("ada"))
    ticket = desk.ticket(
        "ana@customer.example",
        subject="Forgot my password",
        text="How do I reset my password? I forgot it.",
        channel=Channel.PORTAL,
    )
    service = kb_routes.responder_for(context.portal())
    # The routes read the real clock, so the answer is written at the real time too.
    assert maybe_answer(ticket.number, now=datetime.now(UTC), service=service).answered
    messages = desk.tickets.thread(ticket.number).messages
    reply = next(m.text for m in messages if m.ai_generated)
    yes_link = next(line.split(": ", 1)[1] for line in reply.splitlines() if line.startswith("Yes"))
    token = parse_qs(urlparse(yes_link).query)["token"][0]

    page = desk.get(f"/api/portal/kb/confirm?token={token}")
    still = desk.tickets.get(ticket.number)
    posted = desk.client.http.post(
        "/api/portal/kb/confirm",
        body=urlencode({"token": token}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    again = desk.post("/api/portal/kb/confirm", {"token": token})

    assert page.status_code == 200 and b'<form method="post" action="confirm">' in page.body
    assert still.status == Status.PENDING
    assert posted.status_code == 200 and b"solved" in posted.body
    solved = desk.tickets.get(ticket.number)
    assert solved.status == Status.SOLVED and solved.ai_resolved
    assert again.status_code == 401
