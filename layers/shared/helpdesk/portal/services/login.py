"""Signing in: customers by a one-time mailed link, agents (locally) by a dev login that
goes through the same Cognito user pool and token checks as production."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from botocore.exceptions import ClientError

from helpdesk.domain.models import Agent, Role
from helpdesk.exceptions import NotFoundError
from helpdesk.portal.auth import SESSION_COOKIE, organisation_of
from helpdesk.portal.context import Portal
from helpdesk.portal.schemas import AgentView, DevLoginResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerSession:
    email: str
    token: str
    expires_at: datetime
    cookie: str


def request_link(portal: Portal, email: str, *, source: str, now: datetime) -> None:
    """Mail a one-time sign-in link to `email`; raises RateLimitedError when the address or
    the source asked too often. Says nothing about whether the address has tickets."""
    settings = portal.settings
    portal.store.hit(
        f"link-source:{source}",
        now=now,
        window_seconds=3600,
        limit=settings.link_requests_per_hour_per_source,
    )
    portal.store.hit(
        f"link:{email}", now=now, window_seconds=3600, limit=settings.link_requests_per_hour
    )
    token, claims = portal.customer_tokens.link(
        email, now=now, ttl_seconds=settings.link_ttl_seconds
    )
    portal.store.put_nonce(claims.nonce, email, expires_at=claims.expires_at)
    link = f"{settings.public_url.rstrip('/')}/?login={quote(token)}"
    minutes = settings.link_ttl_seconds // 60
    portal.client("sesv2").send_email(
        FromEmailAddress=settings.support_address,
        Destination={"ToAddresses": [email]},
        Content={
            "Simple": {
                "Subject": {"Data": f"Your sign-in link for {settings.support_name}"},
                "Body": {
                    "Text": {
                        "Data": (
                            f"Open this link to see your requests:\n\n{link}\n\n"
                            f"It works once, for {minutes} minutes. If you did not ask for it, "
                            "ignore this mail.\n"
                        )
                    }
                },
                "Headers": [{"Name": "Auto-Submitted", "Value": "auto-generated"}],
            }
        },
    )
    logger.info("sign-in link sent")


def open_session(portal: Portal, token: str, *, now: datetime) -> CustomerSession:
    """Exchange a link token for a session; raises UnauthorizedError for a tampered,
    expired or already used link."""
    claims = portal.customer_tokens.read_link(token, now=now)
    portal.store.consume_nonce(claims.nonce, claims.email, now=now)
    settings = portal.settings
    session, session_claims = portal.customer_tokens.session(
        claims.email, now=now, ttl_seconds=settings.session_ttl_seconds
    )
    organisation = organisation_of(portal, claims.email)
    if organisation is not None:
        portal.store.add_member(organisation.id, claims.email)
    logger.info("customer signed in")
    return CustomerSession(
        email=claims.email,
        token=session,
        expires_at=session_claims.expires_at,
        cookie=session_cookie(
            session, settings.session_ttl_seconds, secure=settings.secure_cookies
        ),
    )


def session_cookie(value: str, max_age: int, *, secure: bool) -> str:
    """The Set-Cookie value for a session (empty value and zero age to clear it)."""
    parts = [
        f"{SESSION_COOKIE}={value}",
        "Path=/",
        f"Max-Age={max_age}",
        "HttpOnly",
        "SameSite=Strict",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def dev_login(portal: Portal, agent_id: str, *, now: datetime) -> DevLoginResponse:
    """An ID token for a named agent from the user pool, for local use only.

    Raises NotFoundError when HELPDESK_DEV_LOGIN is off or the agent does not exist.
    """
    settings = portal.settings
    if not settings.dev_login:
        raise NotFoundError("no such route")
    agent = portal.config.get("agents", agent_id, Agent)
    idp = portal.client("cognito-idp")
    pool = settings.user_pool_id
    username = agent.email.lower()
    password = secrets.token_urlsafe(24) + "Aa1!"
    try:
        idp.admin_create_user(
            UserPoolId=pool,
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": username},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "UsernameExistsException":
            raise
    idp.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=password, Permanent=True
    )
    sync_groups(portal, agent)
    result = idp.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=settings.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    logger.info("dev login", extra={"agent_id": agent.id})
    return DevLoginResponse(
        token=result["IdToken"],
        expires_at=now + timedelta(seconds=int(result.get("ExpiresIn", 3600))),
        agent=agent_view(agent),
    )


def sync_groups(portal: Portal, agent: Agent) -> None:
    """Put the agent's pool user in the groups of its role (admins are agents too).
    A user that is not in the pool yet is left alone."""
    idp = portal.client("cognito-idp")
    pool = portal.settings.user_pool_id
    username = agent.email.lower()
    wanted = {"agent", "admin"} if agent.role == Role.ADMIN else {"agent"}
    try:
        for group in wanted:
            idp.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
        if "admin" not in wanted:
            idp.admin_remove_user_from_group(UserPoolId=pool, Username=username, GroupName="admin")
    except ClientError as error:
        if error.response["Error"]["Code"] not in {"UserNotFoundException"}:
            raise


def agent_view(agent: Agent) -> AgentView:
    return AgentView(
        id=agent.id, email=agent.email, name=agent.name, role=agent.role.value, teams=agent.teams
    )
