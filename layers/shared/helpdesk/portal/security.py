"""Signed values: opaque cursors, customer sign-in links and sessions, and agent JWTs.

Customer links and sessions are HS256 JWTs under keys derived from one secret, one key per
purpose, so a link can never be replayed as a session or a cursor as either. Agent tokens are
Cognito ID tokens (RS256), checked against the pool's published keys (JWKS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt

from helpdesk.exceptions import UnauthorizedError, ValidationError

logger = logging.getLogger(__name__)

LINK = "login-link"
SESSION = "session"
CURSOR = "cursor"


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the shared secret (HMAC-SHA256)."""
    return hmac.new(secret.encode(), f"helpdesk:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    """Opaque, tamper-evident cursors bound to who asked and what they asked for."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, CURSOR)

    def sign(self, position: Any, *, bound_to: str) -> str:
        """The cursor for `position`, valid only for the same `bound_to` (caller and query)."""
        payload = _b64(json.dumps({"p": position, "b": _digest(bound_to)}, default=str).encode())
        return f"{payload}.{self._mac(payload)}"

    def open(self, cursor: str, *, bound_to: str) -> Any:
        """The position inside `cursor`; raises ValidationError (field cursor) when it was
        changed, made for another caller or another query, or is not a cursor at all."""
        payload, _, mac = cursor.partition(".")
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise ValidationError("the cursor is not valid", field="cursor")
        try:
            value = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError("the cursor is not valid", field="cursor") from error
        if value.get("b") != _digest(bound_to):
            raise ValidationError("the cursor is not valid", field="cursor")
        return value.get("p")

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LinkClaims:
    email: str
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionClaims:
    email: str
    session_id: str
    expires_at: datetime


class CustomerTokens:
    """Issues and checks the customers' one-time link tokens and session tokens."""

    def __init__(self, secret: str) -> None:
        self._link_key = derive_key(secret, LINK)
        self._session_key = derive_key(secret, SESSION)

    def link(self, email: str, *, now: datetime, ttl_seconds: int) -> tuple[str, LinkClaims]:
        """A fresh link token and its claims (the nonce must be stored to be consumed once)."""
        claims = LinkClaims(email, secrets.token_urlsafe(24), _after(now, ttl_seconds))
        token = jwt.encode(
            {
                "sub": email,
                "nonce": claims.nonce,
                "typ": LINK,
                "iat": int(now.timestamp()),
                "exp": int(claims.expires_at.timestamp()),
            },
            self._link_key,
            algorithm="HS256",
        )
        return token, claims

    def read_link(self, token: str, *, now: datetime) -> LinkClaims:
        """The claims of a link token; raises UnauthorizedError when tampered or expired."""
        data = _decode_hs256(token, self._link_key, LINK, now)
        if not isinstance(data.get("nonce"), str):
            raise UnauthorizedError("the sign-in link is not valid")
        return LinkClaims(data["sub"], data["nonce"], _instant(data["exp"]))

    def session(self, email: str, *, now: datetime, ttl_seconds: int) -> tuple[str, SessionClaims]:
        """A session token for a signed-in customer, and its claims."""
        claims = SessionClaims(email, secrets.token_urlsafe(12), _after(now, ttl_seconds))
        token = jwt.encode(
            {
                "sub": email,
                "sid": claims.session_id,
                "typ": SESSION,
                "iat": int(now.timestamp()),
                "exp": int(claims.expires_at.timestamp()),
            },
            self._session_key,
            algorithm="HS256",
        )
        return token, claims

    def read_session(self, token: str, *, now: datetime) -> SessionClaims:
        """The claims of a session token; raises UnauthorizedError when tampered or expired."""
        data = _decode_hs256(token, self._session_key, SESSION, now)
        return SessionClaims(data["sub"], str(data.get("sid", "")), _instant(data["exp"]))


def _decode_hs256(token: str, key: bytes, kind: str, now: datetime) -> dict[str, Any]:
    try:
        data = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            options={"require": ["exp", "iat", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError as error:
        raise UnauthorizedError("the token is not valid") from error
    if data.get("typ") != kind or not isinstance(data.get("sub"), str):
        raise UnauthorizedError("the token is not valid")
    if int(data["exp"]) <= now.timestamp():
        raise UnauthorizedError("the token has expired")
    return data


def _after(now: datetime, seconds: int) -> datetime:
    return datetime.fromtimestamp(int(now.timestamp()) + seconds, tz=now.tzinfo)


def _instant(seconds: Any) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(int(seconds), tz=UTC)


@dataclass(frozen=True)
class AgentClaims:
    subject: str
    email: str
    groups: frozenset[str] = field(default_factory=frozenset)
    expires_at: datetime | None = None


class AgentTokenVerifier:
    """Checks Cognito ID tokens: RS256 signature against the pool's JWKS, issuer, audience
    (the app client), token use and expiry."""

    def __init__(self, jwks_url: str, *, issuer: str, audience: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=5)
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str, *, now: datetime) -> AgentClaims:
        """The agent's claims; raises UnauthorizedError for any token that does not verify."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            data = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss", "sub", "aud"], "verify_exp": False},
            )
        except jwt.PyJWKClientConnectionError as error:
            logger.warning("agent signing keys unavailable")
            raise UnauthorizedError("the token could not be checked") from error
        except jwt.PyJWTError as error:
            raise UnauthorizedError("the token is not valid") from error
        if data.get("token_use") != "id":
            raise UnauthorizedError("an ID token is required")
        if int(data["exp"]) <= now.timestamp():
            raise UnauthorizedError("the token has expired")
        groups = data.get("cognito:groups") or []
        # NOTE: a pool whose users sign in by email puts the address in `email`; a pool made
        # without UsernameAttributes (moto's, from the template) leaves it to the user name.
        username = str(data.get("cognito:username", ""))
        email = data.get("email") or (username if "@" in username else "")
        return AgentClaims(
            subject=str(data["sub"]),
            email=str(email).lower(),
            groups=frozenset(str(group) for group in groups),
            expires_at=_instant(data["exp"]),
        )
