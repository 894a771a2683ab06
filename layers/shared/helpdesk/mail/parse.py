"""Parsing one raw mail into a ParsedMail: lenient, bounded, and never raising."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from email import policy
from email.feedparser import FeedParser
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import Message
from email.parser import BytesParser

from helpdesk.mail.body import collect_body
from helpdesk.mail.classify import classify
from helpdesk.mail.headers import (
    decode_text,
    generated_message_id,
    parse_address_list,
    parse_date,
    parse_mailbox,
    parse_message_id,
    parse_message_ids,
    unfold,
)
from helpdesk.mail.html import html_to_text, sanitise_html
from helpdesk.mail.model import Outcome, ParsedMail
from helpdesk.mail.reply import visible_text

logger = logging.getLogger(__name__)

MAX_REFERENCES = 100
_HEADER_CACHE_SIZE = 2048
_HEADER_CACHE_VALUE = 2000


class _CachingHeaderRegistry(HeaderRegistry):
    """The modern policy's header registry, remembering what it parsed.

    The parser and the walk ask for each part's Content-Type several times, and every ask
    parses the raw value again. Parsed headers are immutable, so the same (name, value) can
    share one object; the cache is bounded.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > _HEADER_CACHE_VALUE:
            return super().__call__(name, value)
        key = (name.lower(), value)
        header = self._parsed.get(key)
        if header is None:
            header = super().__call__(name, value)
            if len(self._parsed) >= _HEADER_CACHE_SIZE:
                self._parsed.clear()
            self._parsed[key] = header
        return header


_POLICY = policy.default.clone(raise_on_defect=False, header_factory=_CachingHeaderRegistry())
_CHARSET_PARAM = re.compile(rb"charset\s*=\s*\"?([A-Za-z0-9_.:+-]{2,40})", re.IGNORECASE)
_RAW_SENDER = re.compile(r"(?im)^[ \t]*(?:from|sender)[ \t]*:[ \t]*(.*(?:\n[ \t].*)*)")
# Only the author (From) or the agent sending for them (Sender) may be the requester: a
# Reply-To or Return-Path is chosen by whoever sends, and proves nothing about who wrote.
# Nesting deeper than this is not read: the body walk stops at 30 levels anyway.
MAX_NESTING = 40
# The parser's own stack holds two entries per attached message (the part and the message).
_PARSER_DEPTH = 2 * MAX_NESTING + 2
_FEED_CHUNK = 1 << 20
_NESTING_TOKEN = re.compile(
    rb"(?im)^(?:content-type:[ \t]*(?:\r?\n[ \t]+)?"
    rb"(?P<type>(?:multipart|message)/[^\n]*(?:\n[ \t][^\n]*)*)"
    rb"|--(?P<line>[^\r\n]+))"
)
_BOUNDARY_PARAM = re.compile(rb'(?i)boundary\s*=\s*("[^"]+"|[^\s;]+)')
_ADDRESS_SOURCES = ("from", "sender")


def parse_mail(raw: bytes, *, received_at: datetime) -> ParsedMail:
    """Parse raw MIME bytes into a ParsedMail, classified (customer, bounce, auto-reply, ...).

    Never raises: a mail that cannot be read at all comes back with outcome `rejected`, its
    reason and `error` set, and whatever fields could still be read. `received_at` stands in
    for a missing or absurd Date. Message ids keep their angle brackets ("<id@host>"); a mail
    without one gets a stable id made from a hash of its bytes (`message_id_generated`).
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    try:
        return _parse(raw, received_at)
    except Exception as error:  # the contract: any failure becomes a rejection, never a raise
        logger.warning("mail unparseable", extra={"error_type": type(error).__name__})
        return _rejected(raw, received_at, error)


def _parse(raw: bytes, received_at: datetime) -> ParsedMail:
    cut: int | None = None
    try:
        message = _message_from_bytes(raw)
    except (_TooDeepError, RecursionError):
        # Read the first levels only: cut where the nesting passes the limit, following the
        # structure, or failing that at the limit-th nested part, however they nest.
        logger.warning("mail nested too deeply for the parser")
        cut = _nesting_cut(raw, MAX_NESTING) or len(raw)
        try:
            message = _message_from_bytes(raw[:cut])
        except (_TooDeepError, RecursionError):
            cut = _nesting_cut(raw, MAX_NESTING, structure=False) or len(raw)
            try:
                message = _message_from_bytes(raw[:cut])
            except (_TooDeepError, RecursionError):
                # Nesting the scans cannot see: keep the headers, so the sender is known,
                # and no body rather than the raw MIME source as text.
                message = _message_from_bytes(raw, headers_only=True)
                message.set_payload("")
    hints = _declared_charsets(raw)
    headers = _first_headers(message)
    mail = _read_headers(headers, raw, received_at, hints)

    body = collect_body(message, hints)
    text = "\n\n".join(t.strip("\n") for t in body.texts if t.strip())
    html_source = "\n".join(body.htmls)
    if not text and html_source.strip():
        text = html_to_text(html_source)
    mail.text = text
    mail.visible_text = visible_text(text)
    mail.html = sanitise_html(html_source) if html_source.strip() else None
    mail.attachments = body.attachments
    defects = [*mail.defects, *body.defects]
    if cut is not None:
        defects.append("mime_nesting_limit")
    mail.defects = list(dict.fromkeys(defects))

    verdict = classify(message, mail, body.part_types)
    mail.outcome = verdict.outcome
    mail.reason = verdict.reason
    mail.auto_submitted = verdict.automatic
    mail.bounced_message_ids = verdict.bounced_message_ids
    mail.bounced_recipients = verdict.bounced_recipients
    if mail.outcome is Outcome.CUSTOMER and mail.requester is None:
        mail.outcome = Outcome.REJECTED
        # A mail that names a sender we cannot believe differs from one that names none.
        named = any(source in headers for source in _ADDRESS_SOURCES)
        mail.reason = "no valid sender address" if named else "no sender address"
    return mail


class _TooDeepError(Exception):
    """The parser reached a part nested far deeper than MAX_NESTING."""


class _DepthLimitedFeedParser(FeedParser):
    """The standard library's parser, stopping at a part nested far deeper than MAX_NESTING.

    The library recurses once per nesting level and checks every line against every open
    boundary: thousands of nested multiparts or attached messages cost seconds and then
    raise RecursionError. Stopping early keeps that cost small.
    """

    def _new_message(self) -> None:
        # NOTE: _new_message and _msgstack are the feed parser's internals (stable since
        # Python 3.2); if they change, deep mails fall back on catching RecursionError.
        if len(getattr(self, "_msgstack", ())) >= _PARSER_DEPTH:
            raise _TooDeepError
        super()._new_message()  # type: ignore[misc]


def _message_from_bytes(raw: bytes, *, headers_only: bool = False) -> Message:
    """email.message_from_bytes with our policy, raising _TooDeepError on very deep nesting.

    With `headers_only`, the body is kept as one unparsed text and nothing can nest.
    """
    if headers_only:
        return BytesParser(policy=_POLICY).parsebytes(raw, headersonly=True)
    parser = _DepthLimitedFeedParser(policy=_POLICY)
    text = raw.decode("ascii", errors="surrogateescape")
    for start in range(0, len(text), _FEED_CHUNK):
        parser.feed(text[start : start + _FEED_CHUNK])
    return parser.close()


def _nesting_cut(raw: bytes, limit: int, *, structure: bool = True) -> int | None:
    """Where to cut the raw mail so that no part is nested deeper than `limit`, or None.

    The standard library parser recurses once per nesting level and checks every line
    against every open boundary: thousands of nested multiparts or attached messages make it
    slow and then raise RecursionError. This scan is linear: it follows multipart boundaries
    (opened by a Content-Type, closed by "--boundary--", siblings by "--boundary") and
    attached messages (closed by the next boundary of an enclosing multipart). Without
    `structure`, it cuts at the limit-th nesting Content-Type, however they nest.
    """
    stack: list[bytes | None] = []
    count = 0
    for match in _NESTING_TOKEN.finditer(raw):
        if match["type"] is not None:
            count += 1
            if len(stack) >= limit or (not structure and count > limit):
                return match.start()
            boundary = _BOUNDARY_PARAM.search(match["type"])
            stack.append(boundary[1].strip(b'"') if boundary else None)
        elif structure:
            line = match["line"].rstrip()
            if line.endswith(b"--") and line[:-2] in stack:
                # The closing delimiter ends the multipart and everything inside it.
                del stack[_last_index(stack, line[:-2]) :]
            elif line in stack:
                # A delimiter ends the previous sibling and whatever it held.
                del stack[_last_index(stack, line) + 1 :]
    return None


def _last_index(stack: list[bytes | None], boundary: bytes) -> int:
    return len(stack) - 1 - stack[::-1].index(boundary)


def _read_headers(
    headers: dict[str, str], raw: bytes, received_at: datetime, hints: list[str]
) -> ParsedMail:
    mail = ParsedMail()
    mail.subject = decode_text(headers.get("subject", ""), hints).strip()

    for source in _ADDRESS_SOURCES:
        if source in headers:
            address, name = parse_mailbox(headers[source], hints)
            if source == "from":
                mail.requester_name = name
            if address is not None:
                mail.requester = address
                if source != "from":
                    mail.defects.append(f"requester_from_{source}")
                break
    if mail.requester is None:
        # A broken header line can end the header block early; look further for a sender.
        mail.requester, name = _sender_from_raw_head(raw, hints)
        mail.requester_name = mail.requester_name or name
        if mail.requester is not None:
            mail.defects.append("requester_from_raw_header_block")
    if "reply-to" in headers:
        mail.reply_to = parse_mailbox(headers["reply-to"], hints)[0]
    mail.to = parse_address_list(headers.get("to", ""))
    mail.cc = parse_address_list(headers.get("cc", ""))

    message_id = parse_message_id(headers.get("message-id", ""))
    if message_id is None:
        mail.message_id = generated_message_id(raw)
        mail.message_id_generated = True
    else:
        mail.message_id = message_id
    mail.in_reply_to = parse_message_id(headers.get("in-reply-to", ""))
    references = parse_message_ids(headers.get("references", ""))
    # The thread's root and its most recent ids are what threading needs; a header with
    # thousands of ids must not become thousands of look-ups.
    mail.references = references[:1] + references[1:][-(MAX_REFERENCES - 1) :]

    mail.date, believed = parse_date(headers.get("date"), received_at)
    if not believed:
        mail.defects.append("date_missing_or_invalid")
    return mail


def _sender_from_raw_head(raw: bytes, hints: list[str]) -> tuple[str | None, str]:
    head = raw[:65536].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    text = head.decode("utf-8", "surrogateescape")
    for match in _RAW_SENDER.finditer(text):
        address, name = parse_mailbox(match[1], hints)
        if address is not None:
            return address, name
    return None, ""


def _first_headers(message: Message) -> dict[str, str]:
    """The first value of each header, raw (folded, surrogate-escaped), by lower-case name."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        key = str(name).strip().lower()
        if key not in headers:
            headers[key] = str(value)
    return headers


def _declared_charsets(raw: bytes) -> list[str]:
    """Charsets the mail declares anywhere: the best guess for its raw 8-bit headers."""
    found = [m.decode("ascii").lower() for m in _CHARSET_PARAM.findall(raw[:200_000])]
    return [c for c in dict.fromkeys(found) if c not in ("us-ascii", "ascii", "utf-8")][:5]


def _rejected(raw: bytes, received_at: datetime, error: BaseException) -> ParsedMail:
    mail = ParsedMail(
        outcome=Outcome.REJECTED,
        reason="unparseable mail",
        error=f"{type(error).__name__}: {error}"[:500],
        message_id=generated_message_id(raw),
        message_id_generated=True,
        date=received_at,
    )
    try:
        head = raw[:65536].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        text = head.decode("utf-8", "surrogateescape")
        fields = dict(
            (m[1].lower(), m[2])
            for m in re.finditer(r"^([A-Za-z-]+):[ \t]*(.*(?:\n[ \t].*)*)", text, re.M)
        )
        mail.subject = decode_text(fields.get("subject", "")).strip()
        mail.requester, mail.requester_name = parse_mailbox(fields.get("from", ""))
        message_id = parse_message_id(fields.get("message-id", ""))
        if message_id:
            mail.message_id, mail.message_id_generated = message_id, False
        mail.in_reply_to = parse_message_id(unfold(fields.get("in-reply-to", "")))
    except Exception:  # the best-effort fields stay empty
        logger.debug("no fields readable from a rejected mail", exc_info=True)
    return mail
