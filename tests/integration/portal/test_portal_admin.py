"""Admins manage the desk's settings; each kind is validated by its model."""

from __future__ import annotations

from tests.integration.portal.support import Desk


def test_an_admin_creates_reads_lists_and_deletes_a_canned_response(desk: Desk) -> None:
    ada = desk.agent("ada")
    body = {"title": "Hello", "text": "Dear {{requester.name}}"}

    created = desk.put("/api/admin/canned-responses/hello", body, headers=ada)
    listed = desk.get("/api/admin/canned-responses", headers=ada)
    seen_by_agents = desk.get("/api/agent/canned-responses", headers=desk.agent("bob"))
    deleted = desk.delete("/api/admin/canned-responses/hello", headers=ada)
    gone = desk.get("/api/admin/canned-responses/hello", headers=ada)

    assert created.status_code == 200 and created.json_body["id"] == "hello"
    assert [item["id"] for item in listed.json_body["items"]] == ["hello"]
    assert [item["title"] for item in seen_by_agents.json_body["items"]] == ["Hello"]
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_a_bad_setting_names_its_field(desk: Desk) -> None:
    response = desk.put(
        "/api/admin/webhooks/crm",
        {"url": "http://plain.example/hook", "events": ["ticket.created"]},
        headers=desk.agent("ada"),
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "url"


def test_an_id_in_the_body_must_match_the_path(desk: Desk) -> None:
    response = desk.put(
        "/api/admin/teams/support", {"id": "billing", "name": "Billing"}, headers=desk.agent("ada")
    )

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "id"


def test_an_unknown_kind_is_404(desk: Desk) -> None:
    response = desk.get("/api/admin/secrets", headers=desk.agent("ada"))

    assert response.status_code == 404


def test_an_admin_promotes_an_agent_and_the_pool_groups_follow(desk: Desk) -> None:
    desk.agent("bob")  # bob has signed in once, so the pool has his user

    promoted = desk.put(
        "/api/admin/agents/bob",
        {"email": "bob@desk.example", "name": "Bob", "role": "admin", "teams": ["support"]},
        headers=desk.agent("ada"),
    )
    desk.tokens.pop("bob")
    roles = desk.get("/api/auth/me", headers=desk.agent("bob")).json_body["roles"]

    assert promoted.status_code == 200
    assert roles == ["admin", "agent"]
    assert desk.get("/api/admin/teams", headers=desk.agent("bob")).status_code == 200
