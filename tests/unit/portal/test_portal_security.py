"""Signed cursors and customer tokens: bound, tamper-evident, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.exceptions import UnauthorizedError, ValidationError
from helpdesk.portal.security import CursorSigner, CustomerTokens

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_cursor_opens_for_the_caller_it_was_made_for() -> None:
    signer = CursorSigner("secret")
    cursor = signer.sign({"PK": "TICKET#1"}, bound_to="agent:bob:q")

    assert signer.open(cursor, bound_to="agent:bob:q") == {"PK": "TICKET#1"}
    with pytest.raises(ValidationError):
        signer.open(cursor, bound_to="agent:cy:q")


def test_a_cursor_changed_by_one_character_is_refused() -> None:
    signer = CursorSigner("secret")
    cursor = signer.sign({"PK": "TICKET#1"}, bound_to="b")
    flipped = ("B" if cursor[0] != "B" else "C") + cursor[1:]

    with pytest.raises(ValidationError) as raised:
        signer.open(flipped, bound_to="b")

    assert raised.value.field == "cursor"


def test_a_cursor_from_another_secret_is_refused() -> None:
    cursor = CursorSigner("other").sign({"PK": "TICKET#1"}, bound_to="b")

    with pytest.raises(ValidationError):
        CursorSigner("secret").open(cursor, bound_to="b")


def test_a_link_expires_and_is_not_a_session() -> None:
    tokens = CustomerTokens("secret")
    link, claims = tokens.link("a@b.example", now=NOW, ttl_seconds=900)

    assert tokens.read_link(link, now=NOW + timedelta(minutes=14)).nonce == claims.nonce
    with pytest.raises(UnauthorizedError):
        tokens.read_link(link, now=NOW + timedelta(minutes=15))
    with pytest.raises(UnauthorizedError):
        tokens.read_session(link, now=NOW)


def test_a_session_with_the_none_algorithm_is_refused() -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "a@b.example", "typ": "session", "iat": 0, "exp": 2**31}, None, algorithm="none"
    )

    with pytest.raises(UnauthorizedError):
        CustomerTokens("secret").read_session(forged, now=NOW)
