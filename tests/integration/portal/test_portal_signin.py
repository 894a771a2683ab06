"""Signing in: agents through the pool's ID tokens, customers through one-time links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from helpdesk.portal.security import CustomerTokens
from helpdesk.portal.store import PortalStore
from tests.integration.portal.support import SESSION_SECRET, Desk


def test_dev_login_gives_an_agent_a_token_that_opens_the_queue(desk: Desk) -> None:
    response = desk.get("/api/agent/tickets", headers=desk.agent("bob"))

    assert response.status_code == 200
    assert response.json_body == {"tickets": [], "cursor": None}


def test_dev_login_token_carries_the_agents_roles_as_cognito_groups(desk: Desk) -> None:
    admin = desk.get("/api/auth/me", headers=desk.agent("ada")).json_body
    agent = desk.get("/api/auth/me", headers=desk.agent("bob")).json_body

    assert admin["kind"] == "agent" and admin["roles"] == ["admin", "agent"]
    assert agent["id"] == "bob" and agent["roles"] == ["agent"]


def test_dev_login_is_absent_when_the_setting_is_off(desk: Desk, monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_DEV_LOGIN", "0")
    from helpdesk.portal import context

    context.reset()

    response = desk.post("/api/auth/dev-login", {"agent_id": "bob"})

    assert response.status_code == 404
    assert response.json_body["error"]["code"] == "not_found"


def test_an_agent_route_without_a_token_is_401(desk: Desk) -> None:
    response = desk.get("/api/agent/tickets")

    assert response.status_code == 401
    assert set(response.json_body["error"]) == {"code", "message", "field"}


def test_a_tampered_agent_token_is_refused(desk: Desk) -> None:
    token = desk.agent("bob")["Authorization"].removeprefix("Bearer ")
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["cognito:groups"] = ["admin", "agent"]
    forged_payload = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()

    response = desk.get(
        "/api/admin/teams",
        headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"},
    )

    assert response.status_code == 401


def test_a_token_signed_with_another_key_is_refused(desk: Desk) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = desk.agent("bob")["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})

    response = desk.get("/api/agent/tickets", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401


def test_a_customer_signs_in_with_the_mailed_link(desk: Desk) -> None:
    token = desk.link_token("carol@customer.example")

    response = desk.post("/api/auth/session", {"token": token})

    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("helpdesk_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    me = desk.get("/api/auth/me", headers={"Cookie": cookie.split(";")[0]})
    assert me.json_body["kind"] == "customer"
    assert me.json_body["email"] == "carol@customer.example"


def test_a_sign_in_link_works_only_once(desk: Desk) -> None:
    token = desk.link_token("carol@customer.example")
    first = desk.post("/api/auth/session", {"token": token})

    second = desk.post("/api/auth/session", {"token": token})

    assert first.status_code == 200
    assert second.status_code == 401


def test_an_expired_sign_in_link_is_refused(desk: Desk) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    token, claims = CustomerTokens(SESSION_SECRET).link(
        "carol@customer.example", now=past, ttl_seconds=900
    )
    PortalStore(desk.table).put_nonce(claims.nonce, claims.email, expires_at=claims.expires_at)

    response = desk.post("/api/auth/session", {"token": token})

    assert response.status_code == 401


def test_a_tampered_sign_in_link_is_refused(desk: Desk) -> None:
    token = desk.link_token("carol@customer.example")
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "mallory@evil.example"
    forged = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims).encode()).decode()

    response = desk.post("/api/auth/session", {"token": f"{header}.{forged}.{signature}"})

    assert response.status_code == 401


def test_a_link_token_is_not_a_session(desk: Desk) -> None:
    token = desk.link_token("carol@customer.example")

    response = desk.get("/api/portal/tickets", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_an_expired_session_is_refused(desk: Desk) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    token, _ = CustomerTokens(SESSION_SECRET).session(
        "carol@customer.example", now=past, ttl_seconds=60
    )

    response = desk.get("/api/portal/tickets", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert "expired" in response.json_body["error"]["message"]


def test_a_session_signed_with_another_secret_is_refused(desk: Desk) -> None:
    token, _ = CustomerTokens("not-the-secret").session(
        "carol@customer.example", now=datetime.now(UTC), ttl_seconds=600
    )

    response = desk.get("/api/portal/tickets", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_a_customer_session_cannot_open_agent_routes(desk: Desk) -> None:
    headers = desk.customer("carol@customer.example")

    response = desk.get("/api/agent/tickets", headers=headers)

    assert response.status_code == 401


def test_asking_for_links_too_often_is_429(desk: Desk) -> None:
    statuses = [
        desk.post("/api/auth/link", {"email": "dora@customer.example"}).status_code
        for _ in range(6)
    ]

    assert statuses[:5] == [202] * 5
    assert statuses[5] == 429


def test_a_link_request_with_a_bad_address_names_the_field(desk: Desk) -> None:
    response = desk.post("/api/auth/link", {"email": "not an address"})

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "email"
