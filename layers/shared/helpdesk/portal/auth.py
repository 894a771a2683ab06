"""Who is calling: agents by Cognito ID token, customers by session token or cookie."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any

from helpdesk.domain.models import Agent, Organisation
from helpdesk.exceptions import ForbiddenError, UnauthorizedError
from helpdesk.portal.context import Portal

logger = logging.getLogger(__name__)

SESSION_COOKIE = "helpdesk_session"
AGENT_GROUPS = frozenset({"agent", "admin"})


@dataclass(frozen=True)
class AgentPrincipal:
    id: str
    email: str
    name: str
    roles: frozenset[str]
    teams: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(frozen=True)
class CustomerPrincipal:
    email: str
    session_id: str
    organisation: Organisation | None = None

    @property
    def sees_organisation(self) -> bool:
        return self.organisation is not None and self.organisation.shared_tickets


def bearer_token(headers: Any) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or a bare JWT (as API
    Gateway's Cognito authorizer also accepts it); None without one."""
    value = (headers.get("authorization") or "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if value and " " not in value and value.count(".") == 2:
        return value
    return None


def session_cookie(headers: Any) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(raw)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel and morsel.value else None


def authenticate_agent(
    portal: Portal, headers: Any, *, now: datetime, admin: bool = False
) -> AgentPrincipal:
    """The signed-in agent; raises UnauthorizedError without a valid ID token and
    ForbiddenError when the token's groups hold no agent role (or no admin role for `admin`)."""
    token = bearer_token(headers)
    if token is None:
        raise UnauthorizedError("sign in as an agent")
    claims = portal.agent_tokens.verify(token, now=now)
    roles = claims.groups & AGENT_GROUPS
    if not roles:
        raise ForbiddenError("this account has no agent role")
    if admin and "admin" not in roles:
        raise ForbiddenError("this needs the admin role")
    record = find_agent_by_email(portal, claims.email)
    if record is None:
        return AgentPrincipal(claims.subject, claims.email, claims.email, frozenset(roles))
    return AgentPrincipal(
        record.id, record.email, record.name, frozenset(roles), tuple(record.teams)
    )


def find_agent_by_email(portal: Portal, email: str) -> Agent | None:
    """The agent record whose email is `email`, or None."""
    wanted = email.strip().lower()
    for agent in portal.config.list("agents", Agent):
        if agent.email.strip().lower() == wanted:
            return agent
    return None


def authenticate_customer(portal: Portal, headers: Any, *, now: datetime) -> CustomerPrincipal:
    """The signed-in customer; raises UnauthorizedError without a valid session."""
    token = session_cookie(headers) or bearer_token(headers)
    if token is None:
        raise UnauthorizedError("sign in with the link we mail you")
    claims = portal.customer_tokens.read_session(token, now=now)
    return CustomerPrincipal(
        email=claims.email,
        session_id=claims.session_id,
        organisation=organisation_of(portal, claims.email),
    )


def organisation_of(portal: Portal, email: str) -> Organisation | None:
    """The organisation whose domains include the address's domain, or None."""
    domain = email.rpartition("@")[2].lower()
    for organisation in portal.config.list("organisations", Organisation):
        if domain in {d.lower() for d in organisation.domains}:
            return organisation
    return None
