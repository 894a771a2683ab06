"""Reading header values leniently: unfolding, RFC 2047 words, raw 8-bit, addresses, ids, dates."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime

from helpdesk.mail.charsets import codec_for, decode_bytes

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINE = re.compile(r"[\r\n]+")
# An RFC 2047 encoded word, read leniently: spaces inside the text are tolerated, and the
# charset may carry an RFC 2231 language ("utf-8*en"). A word without its "?=" stays literal.
_ENCODED_WORD = re.compile(
    r"=\?(?P<charset>[^?\s]{1,60})\?(?P<encoding>[bBqQ])\?(?P<text>[^?]*?)\?="
)
_ANGLE_ADDRESS = re.compile(r"<\s*([^<>@]+@[^<>]+?)\s*>")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
_BARE_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")
# Folding white space inside an address goes; any other control character makes it invalid.
_SPACE = re.compile(r"[ \t\r\n]+")
_LOCAL_PART = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_QUOTED_LOCAL_PART = re.compile(r'"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])+"')
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?")
_DOMAIN_LITERAL = re.compile(r"\[(?:IPv6:)?[0-9A-Fa-f:.]+\]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_MSG_ID = re.compile(r"<([^<>]+)>")
_ID_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GENERATED_DOMAIN = "generated.invalid"
_LONG_ADDRESS_LIST = 20_000

# A Date before this, or more than this far after receipt, is not believed.
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=2)


def unfold(value: str) -> str:
    """The header value with folding undone exactly: a line break before white space goes."""
    return _NEWLINE.sub(" ", _FOLD.sub("", value))


def raw_bytes(value: str) -> bytes:
    """The original bytes of a header value that the parser read with surrogate escapes."""
    return value.encode("utf-8", errors="surrogateescape")


def decode_text(
    value: str, hints: Sequence[str] = (), fallbacks: Sequence[str] | None = None
) -> str:
    """An unstructured header value (Subject, a display name) decoded to text.

    Unfolds; joins adjacent RFC 2047 encoded words (white space between them goes, and words
    in one charset are decoded together so split characters survive); decodes raw 8-bit bytes
    with UTF-8, then the mail's own charsets, then the fallbacks (the configured ones unless
    given). Never raises.
    """
    value = unfold(value)
    pieces: list[str] = []
    pending: list[tuple[str | None, bytes]] = []
    position = 0

    def flush() -> None:
        for codec, data in _merge_same_charset(pending):
            pieces.append(decode_bytes(data, codec, fallbacks, hints)[0])
        pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            pieces.append(_decode_raw(between, hints, fallbacks))
        codec = codec_for(match["charset"].split("*", 1)[0])
        pending.append((codec, _decode_word(match["encoding"], match["text"])))
        position = match.end()
    flush()
    pieces.append(_decode_raw(value[position:], hints, fallbacks))
    # A decoded word may carry line breaks or NULs: never let them into a subject or a name,
    # which end up in the headers of our replies.
    return _CONTROL.sub(" ", "".join(pieces))


def _merge_same_charset(words: list[tuple[str | None, bytes]]) -> list[tuple[str | None, bytes]]:
    merged: list[tuple[str | None, bytes]] = []
    for codec, data in words:
        if merged and merged[-1][0] == codec:
            merged[-1] = (codec, merged[-1][1] + data)
        else:
            merged.append((codec, data))
    return merged


def _decode_word(encoding: str, text: str) -> bytes:
    raw = raw_bytes(text)
    if encoding in "qQ":
        raw = raw.replace(b"_", b" ")
        return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw)
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", raw)
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return raw


def _decode_raw(text: str, hints: Sequence[str], fallbacks: Sequence[str] | None) -> str:
    if text.isascii():
        return text
    data = raw_bytes(text)
    return decode_bytes(data, None, fallbacks, hints)[0]


def parse_mailbox(value: str, hints: Sequence[str] = ()) -> tuple[str | None, str]:
    """The (addr-spec, display name) of the first mailbox in an address header.

    The structure is read from the raw header before any RFC 2047 word is decoded, so an
    address inside an encoded word or a quoted name is never the address: it is only ever
    taken from the angle brackets, or from a bare addr-spec when there are none. Only the
    display name is decoded. Returns (None, name) when there is no valid address at all
    (see `valid_address`).
    """
    value = unfold(value)
    bare_value = _blank(_ENCODED_WORD, _strip_quoted(value))
    if "(" in bare_value:
        bare_value = _blank(_COMMENT, bare_value)
    angle = _ANGLE_ADDRESS.search(bare_value)
    if angle is not None:
        address = angle[1]
        name = value[: angle.start()]
        if "(" in name and not name.lstrip().startswith('"'):
            name = _COMMENT.sub(" ", name)
        if not name.strip():
            name = _comment(value)
    else:
        bare = _BARE_ADDRESS.search(bare_value)
        if bare is None:
            return None, _clean_name(decode_text(value, hints))
        address = bare[0]
        name = _comment(value)
    return _valid_or_none(address), _clean_name(decode_text(name, hints))


def valid_address(address: str) -> bool:
    """Whether `address` is a sane addr-spec a reply can go to.

    The local part is dot-atom text (ASCII or UTF-8 letters) or a quoted string without
    control characters, and never an encoded word; the domain is dot-separated labels of
    letters, digits and hyphens (internationalised names allowed) or an address literal.
    Returns False for anything else, including text that was not valid UTF-8 in the mail.
    """
    if not address or len(address) > 320 or _has_undecodable(address):
        return False
    local, _, domain = address.rpartition("@")
    if not local or not domain or len(local) > 128 or "=?" in local:
        return False
    if not (_LOCAL_PART.fullmatch(local) or _QUOTED_LOCAL_PART.fullmatch(local)):
        return False
    return bool(_DOMAIN.fullmatch(domain) or _DOMAIN_LITERAL.fullmatch(domain))


def _has_undecodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _valid_or_none(address: str) -> str | None:
    """The cleaned address when valid; raw 8-bit text must be UTF-8 to be read at all."""
    cleaned = _clean_address(address)
    if not cleaned.isascii():
        try:
            cleaned = raw_bytes(cleaned).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return cleaned if cleaned and valid_address(cleaned) else None


def parse_address_list(value: str) -> list[str]:
    """Every addr-spec in an address-list header (To, Cc), lower-cased domain, in order."""
    value = _decode_raw(unfold(value), (), None)
    found: list[str] = []
    try:
        # The library's parser is thorough but slow on huge lists; those get the regexes.
        pairs = getaddresses([value]) if len(value) <= _LONG_ADDRESS_LIST else []
    except (ValueError, TypeError, IndexError):
        pairs = []
    for _name, address in pairs:
        if "@" in address:
            found.append(_clean_address(address))
    if not found:
        found = [_clean_address(a) for a in _ANGLE_ADDRESS.findall(value)]
    if not found:
        found = [_clean_address(a) for a in _BARE_ADDRESS.findall(_strip_quoted(value))]
    return list(dict.fromkeys(a for a in found if a))


def _strip_quoted(value: str) -> str:
    """The value with quoted strings blanked out, keeping every other character in place."""
    return _blank(_QUOTED, value)


def _blank(pattern: re.Pattern[str], value: str) -> str:
    return pattern.sub(lambda m: " " * len(m[0]), value)


def _comment(value: str) -> str:
    match = re.search(r"\(([^()]*)\)", value)
    return match[1] if match else ""


def _clean_name(name: str) -> str:
    name = name.strip().strip("\"'").strip()
    if name == "<>":
        return ""
    return re.sub(r"\\(.)", r"\1", name)


def _clean_address(address: str) -> str:
    address = _SPACE.sub("", address).strip("<>\"'.,;")
    if address.lower().startswith("mailto:"):
        address = address[7:]
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return ""
    return f"{local}@{domain.lower().rstrip('.')}"


def parse_message_id(value: str) -> str | None:
    """The first message id in a header, in angle brackets and verbatim, or None."""
    ids = parse_message_ids(value)
    return ids[0] if ids else None


def parse_message_ids(value: str) -> list[str]:
    """Every message id in a header (References, In-Reply-To), in order, each as "<id>"."""
    value = _decode_raw(unfold(value), (), None)
    ids = [f"<{m.strip()}>" for m in _MSG_ID.findall(value) if m.strip() and " " not in m.strip()]
    if not ids:
        ids = [f"<{token.strip('<>')}>" for token in value.split() if "@" in token]
    # An id with a NUL or another control character is not an id: cleaning it up would make
    # it collide with a real one ("<nu\0ll@x>" and "<null@x>").
    return list(dict.fromkeys(i for i in ids if not _ID_CONTROL.search(i)))


def generated_message_id(raw: bytes) -> str:
    """A stable Message-ID for a mail that has none: a hash of its raw bytes."""
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}@{_GENERATED_DOMAIN}>"


def parse_date(value: str | None, received_at: datetime) -> tuple[datetime, bool]:
    """The mail's Date as an aware UTC datetime, and whether it was believed.

    A missing, unparseable or absurd Date (before 1990, or days after receipt) gives
    (received_at, False).
    """
    if not value:
        return received_at, False
    try:
        parsed = parsedate_to_datetime(unfold(value).strip())
    except (ValueError, TypeError, IndexError, OverflowError):
        return received_at, False
    if parsed is None:
        return received_at, False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return received_at, False
    reference = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
    if parsed < EARLIEST_DATE or parsed > reference + CLOCK_SKEW:
        return received_at, False
    return parsed, True


def decode_rfc2231(value: str) -> str:
    """A parameter value that may still be in RFC 2231 form ("charset'lang'%xx") as text."""
    charset, sep, rest = value.partition("'")
    if not sep or "'" not in rest:
        return value
    _lang, _, encoded = rest.partition("'")
    data = urllib.parse.unquote_to_bytes(encoded)
    return decode_bytes(data, charset or None)[0]
