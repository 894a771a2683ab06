"""Threading: ticket tokens that strangers cannot forge, and the order in which ids are tried.

A token is `<number>-<mac>`, where `mac` is ten base32 characters of an HMAC-SHA256 of the
ticket number under a secret from settings. It travels in the reply address
(`support+<token>@domain`) and in the subject (`[#<token>]`). Knowing a ticket's number is not
enough to write into it: a guessed or altered token fails the check and the mail opens a new
ticket instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from helpdesk.data.keys import normalise_message_id
from helpdesk.domain.models import Direction, Message, MessageKind, Ticket

_MAC_CHARS = 10
_TOKEN = r"(?P<number>[1-9][0-9]{0,11})-(?P<mac>[a-z2-7]{" + str(_MAC_CHARS) + "})"
_SUBJECT_TOKEN = re.compile(r"\[#" + _TOKEN + r"\]", re.IGNORECASE)
_ADDRESS_TOKEN = re.compile(r"^[^@+]+\+" + _TOKEN + r"@", re.IGNORECASE)


def ticket_token(number: int, secret: str) -> str:
    """The token for ticket `number`: the number and a short MAC of it, e.g. `1042-k3j9x2abq4`."""
    digest = hmac.new(secret.encode(), f"ticket:{number}".encode(), hashlib.sha256).digest()
    mac = base64.b32encode(digest).decode().lower()[:_MAC_CHARS]
    return f"{number}-{mac}"


def verify_token(number: int, mac: str, secret: str) -> bool:
    """True when `mac` is the one ticket_token gives for `number` (compared in constant time)."""
    expected = ticket_token(number, secret).split("-", 1)[1]
    return hmac.compare_digest(expected, mac.lower())


def reply_address(support_address: str, number: int, secret: str) -> str:
    """The plus-address that threads into ticket `number`: `support+<token>@domain`."""
    local, _, domain = support_address.partition("@")
    return f"{local}+{ticket_token(number, secret)}@{domain}"


def subject_tag(number: int, secret: str) -> str:
    """The tag put in outbound subjects: `[#<token>]`."""
    return f"[#{ticket_token(number, secret)}]"


class MatchRule(StrEnum):
    """Which rule threaded a mail, in the order they are tried."""

    TOKEN_IN_ADDRESS = "token_in_address"
    TOKEN_IN_SUBJECT = "token_in_subject"
    IN_REPLY_TO = "in_reply_to"
    REFERENCES = "references"


@dataclass(frozen=True)
class TokenMatch:
    number: int
    rule: MatchRule


@dataclass(frozen=True)
class TokenScan:
    """Tokens found in a mail: the verified ones, and how many failed the check."""

    matches: list[TokenMatch]
    forged: int


def scan_tokens(recipients: list[str], subject: str, secret: str) -> TokenScan:
    """Verified ticket tokens from the recipient addresses first, then from the subject.

    A token whose MAC does not match its number counts as forged and is ignored.
    """
    matches: list[TokenMatch] = []
    forged = 0
    candidates: list[tuple[re.Match[str], MatchRule]] = []
    for address in recipients:
        found = _ADDRESS_TOKEN.match(address.strip().strip("<>"))
        if found:
            candidates.append((found, MatchRule.TOKEN_IN_ADDRESS))
    candidates += [
        (found, MatchRule.TOKEN_IN_SUBJECT) for found in _SUBJECT_TOKEN.finditer(subject)
    ]
    for found, rule in candidates:
        number = int(found.group("number"))
        if verify_token(number, found.group("mac"), secret):
            matches.append(TokenMatch(number=number, rule=rule))
        else:
            forged += 1
    return TokenScan(matches=matches, forged=forged)


def reference_ids(in_reply_to: str | None, references: list[str]) -> list[tuple[str, MatchRule]]:
    """The Message-IDs to look up, in order: In-Reply-To, then References newest first.

    References lists the thread oldest first, so its last id is the most likely to be ours;
    every id is tried, so an unknown id anywhere in the list does not stop the search.
    """
    ordered: list[tuple[str, MatchRule]] = []
    seen: set[str] = set()
    if in_reply_to and normalise_message_id(in_reply_to):
        ordered.append((in_reply_to, MatchRule.IN_REPLY_TO))
        seen.add(normalise_message_id(in_reply_to))
    for message_id in reversed(references):
        key = normalise_message_id(message_id)
        if key and key not in seen:
            seen.add(key)
            ordered.append((message_id, MatchRule.REFERENCES))
    return ordered


# Rules that rest on Message-IDs, which leak (forwards, list archives, a CC): unlike a token,
# they prove nothing about who is writing.
ID_RULES = frozenset({MatchRule.IN_REPLY_TO, MatchRule.REFERENCES})


def thread_participants(ticket: Ticket, messages: list[Message]) -> set[str]:
    """The addresses (lower case) that took part in a ticket's mail thread.

    Kept simple on purpose: the requester, the ticket's Reply-To (the only addresses our
    outbound mail goes to, so they cover its recipients) and the sender of every earlier
    inbound mail that joined as a public reply. Senders kept as notes (a third party, an
    auto-reply) do not count, so a note never lets its sender in later.
    """
    addresses = {ticket.requester, ticket.reply_to}
    addresses.update(
        message.author
        for message in messages
        if message.direction == Direction.INBOUND and message.kind == MessageKind.PUBLIC_REPLY
    )
    return {address.strip().lower() for address in addresses if address}
