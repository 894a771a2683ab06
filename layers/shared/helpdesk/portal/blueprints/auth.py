"""Sign-in routes: customers' one-time links and sessions, agents' dev login, who am I."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from helpdesk.portal.auth import authenticate_agent, authenticate_customer, bearer_token
from helpdesk.portal.router import Call, Router, json_response
from helpdesk.portal.schemas import (
    DevLoginRequest,
    DevLoginResponse,
    LinkRequest,
    LinkResponse,
    Me,
    SessionRequest,
    SessionResponse,
)
from helpdesk.portal.services import login

blueprint = Blueprint(__name__)
router = Router(blueprint, "auth")


@router.route(
    "/api/auth/link",
    "POST",
    auth="public",
    summary="Mail a one-time sign-in link",
    body=LinkRequest,
    response=LinkResponse,
    status=202,
)
def request_link(call: Call) -> LinkResponse:
    login.request_link(call.portal, call.body.email, source=_source(call), now=call.now)
    return LinkResponse(sent=True)


@router.route(
    "/api/auth/session",
    "POST",
    auth="public",
    summary="Exchange a sign-in link token for a session",
    body=SessionRequest,
    response=SessionResponse,
)
def open_session(call: Call) -> Response:
    session = login.open_session(call.portal, call.body.token, now=call.now)
    body = SessionResponse(email=session.email, expires_at=session.expires_at, token=session.token)
    return json_response(body.model_dump(mode="json"), headers={"Set-Cookie": session.cookie})


@router.route("/api/auth/logout", "POST", auth="public", summary="Clear the session cookie")
def logout(call: Call) -> Response:
    cookie = login.session_cookie("", 0, secure=call.portal.settings.secure_cookies)
    return Response(body="", status_code=204, headers={"Set-Cookie": cookie})


@router.route(
    "/api/auth/dev-login",
    "POST",
    auth="public",
    summary="A token for a named agent (local development only)",
    body=DevLoginRequest,
    response=DevLoginResponse,
)
def dev_login(call: Call) -> DevLoginResponse:
    return login.dev_login(call.portal, call.body.agent_id, now=call.now)


@router.route("/api/auth/me", "GET", auth="public", summary="Who is signed in", response=Me)
def me(call: Call) -> Me:
    token = bearer_token(call.headers)
    if token is not None and token.count(".") == 2 and _is_rs256(token):
        agent = authenticate_agent(call.portal, call.headers, now=call.now)
        return Me(
            kind="agent", id=agent.id, email=agent.email, name=agent.name, roles=sorted(agent.roles)
        )
    customer = authenticate_customer(call.portal, call.headers, now=call.now)
    return Me(kind="customer", id=customer.email, email=customer.email, name=customer.email)


def _is_rs256(token: str) -> bool:
    import jwt

    try:
        header: dict[str, Any] = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return header.get("alg") == "RS256"


def _source(call: Call) -> str:
    identity = (call.request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
